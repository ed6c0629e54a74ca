using Marten;
using Wirety.Events.Networks;
using Wirety.Events.Peers;

namespace Wirety.Server.Agents;

/// <summary>
/// Claims a WireGuard public key for one peer (document id = the key). Written with Insert by the
/// commands that give a peer its key (enrollment, a static peer's creation), so two peers can never hold
/// the same key. Not a projection: no replay recreates it, so backups carry it.
/// </summary>
public sealed record PublicKeyClaim(string Id, Guid NetworkId, Guid PeerId);

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
