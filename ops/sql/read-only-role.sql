-- Wirety: read-only SQL access to the event store, for psql and BI tools.
--
-- Run once per database as a superuser or a role with CREATEROLE (idempotent; safe to re-run):
--   psql "host=... dbname=wirety user=postgres" -f ops/sql/read-only-role.sql
-- then give people or tools their own login in the group:
--   create role alice login password '...' in role wirety_reader;
--
-- wirety_reader may read the views in schema wirety_read (created and kept up to date by the server at
-- every start; see ops/sql/README.md) and nothing else: not Marten's tables in schema wirety, and no writes.
-- The views run with their owner's rights, so no grant on the underlying tables is needed or given.

do $$
begin
  if not exists (select from pg_roles where rolname = 'wirety_reader') then
    create role wirety_reader nologin;
  end if;
end
$$;

-- Sessions of members start read-only, as a second fence behind the missing privileges.
alter role wirety_reader set default_transaction_read_only = on;

do $$
begin
  execute format('grant connect on database %I to wirety_reader', current_database());
  if exists (select from pg_namespace where nspname = 'wirety_read') then
    grant usage on schema wirety_read to wirety_reader;
    grant select on all tables in schema wirety_read to wirety_reader;
  else
    raise notice 'schema wirety_read does not exist yet: start the Wirety server once, it creates the views and grants them to wirety_reader';
  end if;
end
$$;
