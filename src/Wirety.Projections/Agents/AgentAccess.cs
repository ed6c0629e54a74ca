using JasperFx.Events;
using Marten;
using Marten.Events.Projections;
using Wirety.Events.Networks;
using Wirety.Events.Peers;

namespace Wirety.Projections.Agents;

/// <summary>A one-time enrollment token, by the SHA-256 hash of its value (the document id).</summary>
public sealed record EnrollmentTicket(
    string Id, Guid NetworkId, Guid PeerId, DateTimeOffset IssuedAt, DateTimeOffset ExpiresAt, DateTimeOffset? UsedAt, DateTimeOffset? VoidedAt);

/// <summary>An agent's session credential, by session id; <see cref="TokenHash"/> is what the agent presents, hashed.</summary>
public sealed record AgentSession(
    Guid Id, string TokenHash, Guid NetworkId, Guid PeerId, string Hostname, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt);

/// <summary>
/// Keeps enrollment tickets and agent sessions in step with the network streams: a ticket is used by
/// the enrollment it allowed and voided by a newer ticket for the same peer, by re-enrollment, by the
/// peer's or the network's deletion; a session is revoked by a newer enrollment and by deletion.
/// </summary>
public sealed class AgentAccessProjection : IProjection
{
    public async Task ApplyAsync(IDocumentOperations operations, IReadOnlyList<IEvent> events, CancellationToken cancellation)
    {
        foreach (var e in events)
        {
            switch (e.Data)
            {
                case EnrollmentTokenIssued issued:
                    await VoidTicketsAsync(operations, t => t.PeerId == issued.PeerId, issued.At, cancellation);
                    operations.Store(new EnrollmentTicket(issued.TokenHash, issued.NetworkId, issued.PeerId, issued.At, issued.ExpiresAt, null, null));
                    break;
                case PeerEnrolled enrolled:
                    await VoidTicketsAsync(operations, t => t.PeerId == enrolled.PeerId, enrolled.At, cancellation, usedAt: enrolled.At);
                    await RevokeSessionsAsync(operations, s => s.PeerId == enrolled.PeerId, enrolled.At, cancellation);
                    operations.Store(new AgentSession(enrolled.SessionId, enrolled.SessionTokenHash, enrolled.NetworkId,
                        enrolled.PeerId, enrolled.Hostname, enrolled.At, null));
                    break;
                case PeerRemoved removed:
                    await VoidTicketsAsync(operations, t => t.PeerId == removed.PeerId, removed.At, cancellation);
                    await RevokeSessionsAsync(operations, s => s.PeerId == removed.PeerId, removed.At, cancellation);
                    break;
                case NetworkDeleted deleted:
                    await VoidTicketsAsync(operations, t => t.NetworkId == deleted.NetworkId, deleted.At, cancellation);
                    await RevokeSessionsAsync(operations, s => s.NetworkId == deleted.NetworkId, deleted.At, cancellation);
                    break;
            }
        }
    }

    private static async Task VoidTicketsAsync(IDocumentOperations ops, System.Linq.Expressions.Expression<Func<EnrollmentTicket, bool>> which,
        DateTimeOffset at, CancellationToken ct, DateTimeOffset? usedAt = null)
    {
        foreach (var ticket in await ops.Query<EnrollmentTicket>().Where(which).Where(t => t.UsedAt == null && t.VoidedAt == null).ToListAsync(ct))
            ops.Store(usedAt is null ? ticket with { VoidedAt = at } : ticket with { UsedAt = usedAt });
    }

    private static async Task RevokeSessionsAsync(IDocumentOperations ops, System.Linq.Expressions.Expression<Func<AgentSession, bool>> which,
        DateTimeOffset at, CancellationToken ct)
    {
        foreach (var session in await ops.Query<AgentSession>().Where(which).Where(s => s.RevokedAt == null).ToListAsync(ct))
            ops.Store(session with { RevokedAt = at });
    }
}
