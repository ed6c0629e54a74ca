using Marten;
using Wirety.Projections;
using Wirety.Server.Agents;
using Wirety.Server.Auth.Sessions;
using Wirety.Server.Incidents;

namespace Wirety.Server.Hosting;

/// <summary>
/// The event store as the server and its operator commands use it: Wirety's shape (<see cref="WiretyStore"/>)
/// plus the documents the server's commands write, which no projection owns.
/// </summary>
public static class ServerStore
{
    public static void Configure(StoreOptions opts, string connectionString)
    {
        WiretyStore.Configure(opts, connectionString);

        // The aliases name the tables (mt_doc_peersightings, mt_doc_publickeyclaim) that databases and
        // backups already hold: they stay put whatever the types are called or wherever they live.
        // Written by detection on several instances at once: a lost update would hide a sighting.
        opts.Schema.For<PeerSightings>().DocumentAlias("peersightings").UseOptimisticConcurrency(true);
        // One row per public key in use: inserting a duplicate fails, which makes key uniqueness atomic.
        opts.Schema.For<PublicKeyClaim>().DocumentAlias("publickeyclaim").Index(c => c.PeerId).Index(c => c.NetworkId);
        opts.Listeners.Add(new PublicKeyClaimRelease());
        // UI sessions (operational state, not events): by the hash of the cookie; by subject to end a revoked token's.
        opts.Schema.For<UiSession>().DocumentAlias("uisession").Index(s => s.SubjectId).Index(s => s.ExpiresAt);
    }
}
