using Marten;
using Microsoft.AspNetCore.Mvc;
using Wirety.Events.Networks;
using Wirety.Events.Peers;

namespace Wirety.Server.Agents;

/// <summary>
/// Claims a WireGuard public key for one peer (document id = the key). Written with Insert by the
/// commands that give a peer its key (enrollment, a static peer's creation), so two peers can never hold
/// the same key. Not a projection: no replay recreates it, so backups carry it.
/// </summary>
public sealed record PublicKeyClaim(string Id, Guid NetworkId, Guid PeerId);

/// <summary>How the commands that give a peer its key (enrollment, key rotation) claim it.</summary>
public static class PublicKeyClaims
{
    /// <summary>
    /// Whether another peer holds <paramref name="key"/> (canonical text). Checked before anything is appended: a
    /// commit that fails after Marten reserved event sequence numbers leaves "tombstone" events behind for them.
    /// </summary>
    public static async Task<bool> HeldByAnotherAsync(IDocumentSession session, string key, Guid peerId, CancellationToken ct) =>
        await session.LoadAsync<PublicKeyClaim>(key, ct) is { } held && held.PeerId != peerId;

    /// <summary>
    /// Queues the peer's claim on <paramref name="key"/> in the session's commit: whatever key it held before is
    /// released (another peer may claim it from then on), and the unique insert decides a race with another
    /// command claiming the same key (the commit then throws <see cref="JasperFx.DocumentAlreadyExistsException"/>).
    /// </summary>
    public static void Claim(IDocumentSession session, string key, Guid networkId, Guid peerId)
    {
        session.DeleteWhere<PublicKeyClaim>(c => c.PeerId == peerId);
        session.Insert(new PublicKeyClaim(key, networkId, peerId));
    }

    public static ProblemDetails InUse() =>
        Problems.ApiProblems.Conflict("This public key is already used by another peer; generate a new key pair.");
}

/// <summary>
/// Releases the claims of a removed peer or a deleted network in the commit that removes it, whichever
/// command appends that event. Runs on every session of the store (<see cref="Hosting.ServerStore"/>).
/// </summary>
public sealed class PublicKeyClaimRelease : DocumentSessionListenerBase
{
    public override Task BeforeSaveChangesAsync(IDocumentSession session, CancellationToken token)
    {
        foreach (var e in session.PendingChanges.Streams().SelectMany(s => s.Events))
        {
            switch (e.Data)
            {
                case PeerRemoved removed:
                    session.DeleteWhere<PublicKeyClaim>(c => c.PeerId == removed.PeerId);
                    break;
                case NetworkDeleted deleted:
                    session.DeleteWhere<PublicKeyClaim>(c => c.NetworkId == deleted.NetworkId);
                    break;
            }
        }
        return Task.CompletedTask;
    }
}
