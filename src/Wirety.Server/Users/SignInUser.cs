using Marten;
using Marten.Exceptions;
using Npgsql;
using JasperFx;
using JasperFx.Events;
using Wirety.Events;
using Wirety.Events.Users;
using Wirety.Projections.Users;
using Wirety.Server.Auth.Oidc;

namespace Wirety.Server.Users;

/// <summary>Who the identity provider says signed in. <paramref name="Groups"/> null: the token carried no groups claim.</summary>
public sealed record ProviderIdentity(string Issuer, string Subject, string? Email, string Name, IReadOnlyList<string>? Groups);

/// <summary>What a sign-in decided: the user (null when refused: disabled) and the events to append to its stream.</summary>
public sealed record SignInDecision(User? User, IReadOnlyList<object> Events)
{
    public bool Refused => User is null;
}

/// <summary>
/// Finds or creates the user an identity-provider identity stands for — by (issuer, subject), never by e-mail —
/// and applies the role map. Used by the UI's code flow (every sign-in records <see cref="UserSignedIn"/>) and by
/// provider JWTs (only the first contact does: a token is presented on every API call).
/// </summary>
public static class SignInUser
{
    /// <summary>The actor of role-map grants: the server, applying the operator's map (the event's Source says so too).</summary>
    public static readonly Actor RoleMapActor = Actor.System;

    /// <summary>
    /// The pure decision. The role map changes the grant only when the user has none or the current one came from
    /// the map: an admin's grant stays until an admin changes it (an admin's revocation leaves no grant, so the map
    /// applies again at the next sign-in — disable a user to keep them out). A JWT without a groups claim leaves the
    /// grant alone (access tokens often carry no groups; that is not "member of nothing").
    /// </summary>
    public static SignInDecision Decide(User? user, ProviderIdentity who, string via, RoleMap? map, Guid newUserId, DateTimeOffset now)
    {
        if (user is { Disabled: true }) return new SignInDecision(null, []);
        var events = new List<object>();
        var id = user?.Id ?? newUserId;
        if (user is null || via == SignInVia.Ui)
            events.Add(new UserSignedIn(id, who.Issuer, who.Subject, who.Email, who.Name, via, now));
        var state = events.Aggregate(user, UserEvolution.Evolve)!;

        if (map is { IsEmpty: false } && who.Groups is { } groups && (state.Role is null || state.GrantSource == GrantSource.RoleMap))
        {
            var grant = map.GrantFor(groups);
            if (grant is null && state.Role is not null)
                events.Add(new UserRoleRevoked(id, RoleMapActor, now, GrantSource.RoleMap));
            else if (grant is not null && (grant.Role != state.Role || !UpdateUser.SameNetworks(grant.NetworkIds, state.NetworkIds)))
                events.Add(new UserRoleGranted(id, grant.Role, grant.NetworkIds, RoleMapActor, now, GrantSource.RoleMap));
        }
        return new SignInDecision(events.Aggregate(user, UserEvolution.Evolve), events);
    }

    /// <summary>
    /// Decides and commits. Two first sign-ins of one identity race on the unique identity key (the loser retries
    /// and finds the winner's user); two sign-ins of an existing user race on the stream version (same).
    /// </summary>
    /// <summary>Each lost race means another sign-in of the same person committed: enough for a burst of parallel first contacts.</summary>
    private const int MaxAttempts = 20;

    public static async Task<SignInDecision> RunAsync(IDocumentStore store, ProviderIdentity who, string via, RoleMap? map, TimeProvider clock, CancellationToken ct)
    {
        var key = User.KeyOf(who.Issuer, who.Subject);
        for (var attempt = 1; ; attempt++)
        {
            await using var session = store.LightweightSession();
            var existing = await session.Query<User>().FirstOrDefaultAsync(u => u.IdentityKey == key, ct);
            var now = clock.GetUtcNow();
            try
            {
                if (existing is null)
                {
                    var decision = Decide(null, who, via, map, Guid.CreateVersion7(now), now);
                    session.Events.StartStream<User>(decision.User!.Id, decision.Events.ToArray());
                    await session.SaveChangesAsync(ct);
                    return decision;
                }
                var stream = await session.Events.FetchForWriting<User>(existing.Id, ct);
                var d = Decide(stream.Aggregate ?? existing, who, via, map, existing.Id, now);
                if (d.Events.Count == 0) return d;
                stream.AppendMany(d.Events.ToArray());
                await session.SaveChangesAsync(ct);
                return d;
            }
            catch (Exception e) when (attempt < MaxAttempts && IsRace(e))
            {
                // another sign-in of the same person committed first: read again
            }
        }
    }

    private static bool IsRace(Exception e)
    {
        for (var x = e; x is not null; x = x.InnerException)
            if (x is ConcurrencyException or EventStreamUnexpectedMaxEventIdException or Marten.Exceptions.ExistingStreamIdCollisionException
                or PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
                return true;
        return false;
    }
}
