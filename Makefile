# Entry points for humans and CI (.ci/run calls `make test`).
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := build

CONFIG ?= Release

.PHONY: build restore lock verify-restore codegen codegen-check test run prereqs clean bench fuzz

# Restores are locked (packages.lock.json per project; locked mode when CI=true): see ops/restore.sh.
restore:
	ops/restore.sh

build: restore
	dotnet build Wirety.sln -c $(CONFIG) --no-restore

# After changing a package reference or Directory.Packages.props: refresh and commit the lock files.
lock:
	ops/restore.sh --lock

# A locked restore into an empty package folder: fails when the source no longer serves a locked package.
verify-restore:
	ops/restore.sh --verify

# Wolverine's handler and endpoint code is generated ahead of time into src/Wirety.Server/Internal/Generated
# (the server loads it statically, no Roslyn at run time). After changing a handler, an endpoint or Wolverine
# configuration: `make codegen`, then commit the result. codegen-check regenerates and fails when the
# committed code differs (make test runs it before building).
codegen:
	CONFIG=$(CONFIG) ops/codegen.sh

codegen-check:
	CONFIG=$(CONFIG) ops/codegen.sh --check

# Tests own throwaway PostgreSQL clusters (tests/Wirety.Testing), so they only need the
# binaries installed. ops/test.sh prints a final "N passed, N failed" line. In CI the restore is
# first verified against an empty package folder, so a warm cache cannot hide a missing package.
# The generated code is checked first (prerequisites run in order: no -j here).
test: prereqs $(if $(filter true,$(CI)),verify-restore) codegen-check build
	CONFIG=$(CONFIG) ops/test.sh

prereqs:
	ops/install-prereqs.sh --postgresql --wireguard --network --browser

run:
	ops/run-local.sh

# Build outputs only; the local cluster in .wirety/ holds data and is left alone
# (remove it by hand after `ops/pg/cluster.sh stop .wirety/pg`).
clean:
	-dotnet clean Wirety.sln -c $(CONFIG) -nologo -v quiet
	find src tests bench -type d \( -name bin -o -name obj \) -prune -exec rm -rf {} + 2>/dev/null || true
	rm -rf TestResults artifacts

# Benchmarks (see README): `make bench` (config propagation, 1,000 peers), `make bench BENCH=heartbeats`,
# `make bench BENCH=propagation` (1,000 agents over WebSocket, one and two instances), `make bench BENCH=broadcast`,
# `make bench BENCH=scale` (1,000 to 10,000 peers in one network, deltas to up to 2,000 agents; takes tens of minutes).
bench:
	ops/install-prereqs.sh --postgresql wrk
	dotnet run -c Release --project bench/Wirety.Bench -- $(or $(BENCH),config) $(BENCH_ARGS)

# The schema-driven API fuzzer, long: FUZZ_ITERATIONS requests per operation and credential (make test runs 6).
# Seeds are fixed per operation and iteration, so a failure it reports names the seed that repeats it.
fuzz: build
	ops/install-prereqs.sh --postgresql
	FUZZ_ITERATIONS=$(or $(FUZZ_ITERATIONS),40) dotnet test tests/Wirety.Tests.Api -c $(CONFIG) --no-build --nologo \
		--filter "Category=Fuzz" --logger "console;verbosity=detailed"

# Fault tests (tests/Wirety.Tests.Cluster, Category=Faults; make test leaves them out, they take minutes): kill -9 of a
# server instance under heartbeat and admin load, and PostgreSQL stopped (fast and immediate) and restarted under load.
# They print the figures: writes and heartbeats acknowledged / found, 503s and 500s seen, seconds to recover.
.PHONY: faults
faults: build
	ops/install-prereqs.sh --postgresql
	dotnet test tests/Wirety.Tests.Cluster -c $(CONFIG) --no-build --nologo \
		--filter "Category=Faults" --logger "console;verbosity=detailed"
