using JasperFx.Events;
using JasperFx.Events.Projections;
using Marten;
using Wirety.Projections.Agents;
using Wirety.Projections.Configs;
using Wirety.Projections.Incidents;
using Wirety.Projections.Networks;
using Wirety.Projections.Tokens;
using Wirety.Projections.Users;

namespace Wirety.Projections;

/// <summary>
/// The event store's shape: schema, projections and the documents they write. Shared by server, tests and
/// tools; the server adds the documents its commands write (Wirety.Server's <c>ServerStore</c>).
/// </summary>
public static class WiretyStore
{
    public const string Schema = "wirety";
    public const string LiveEventsIndex = "wirety_mt_events_live_seq";

    public static void Configure(StoreOptions opts, string connectionString)
    {
        opts.Connection(connectionString);
        opts.DatabaseSchemaName = Schema;
        opts.UseSystemTextJsonForSerialization(enumStorage: Weasel.Core.EnumStorage.AsString, casing: Weasel.Core.Casing.CamelCase);
        opts.Events.StreamIdentity = StreamIdentity.AsGuid;
        // STACK.md: without this the daemon's leader lock silently never succeeds with DistributedLock 1.3.1.
        opts.Events.UseAdvisoryLockTransaction = true;
        // The event-query indexes live outside Marten's model; without this its migrations would drop them.
        foreach (var (name, _) in History.EventQueryIndexes.All) opts.Events.IgnoreIndex(name);
        // Partial index over unarchived events, created by heartbeat retention (Wirety.Server/Operations): not Marten's to drop.
        opts.Events.IgnoreIndex(LiveEventsIndex);

        opts.Projections.Add<NetworkProjection>(ProjectionLifecycle.Inline);
        opts.Projections.Add<ApiTokenProjection>(ProjectionLifecycle.Inline);
        opts.Projections.Add<IncidentProjection>(ProjectionLifecycle.Inline);
        opts.Projections.Add<UserProjection>(ProjectionLifecycle.Inline);
        // Custom projections declare the documents they own: a rebuild clears exactly those first.
        opts.Projections.Add(new PeerConfigProjection(), ProjectionLifecycle.Inline, asyncConfiguration: o =>
        {
            o.DeleteViewTypeOnTeardown<ConfigSource>();
        });
        opts.Projections.Add(new AgentAccessProjection(), ProjectionLifecycle.Inline, asyncConfiguration: o =>
        {
            o.DeleteViewTypeOnTeardown<EnrollmentTicket>();
            o.DeleteViewTypeOnTeardown<AgentSession>();
        });

        opts.Schema.For<ApiToken>().UniqueIndex(t => t.TokenHash);
        opts.Schema.For<Network>();
        // One user per (issuer, subject): two first sign-ins racing each start a stream, and the second commit
        // fails on this index (the inline projection writes the document in the same transaction).
        opts.Schema.For<User>().UniqueIndex(u => u.IdentityKey);
        opts.Schema.For<ConfigSource>();
        opts.Schema.For<Incident>().Index(i => i.PeerId).Index(i => i.NetworkId);
        opts.Schema.For<EnrollmentTicket>().Index(t => t.PeerId).Index(t => t.NetworkId);
        opts.Schema.For<AgentSession>().UniqueIndex(s => s.TokenHash).Index(s => s.PeerId).Index(s => s.NetworkId);
    }
}
