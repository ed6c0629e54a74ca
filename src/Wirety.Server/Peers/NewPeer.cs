using Wirety.Events;
using Wirety.Events.Peers;
using Wirety.Events.Tokens;
using Wirety.Projections.Configs;
using Wirety.Projections.Networks;
using Wirety.Server.Agents;
using Wirety.Server.Problems;
using Wirety.Server.Routes;

namespace Wirety.Server.Peers;

/// <summary>
/// What creating one peer decides, shared by <see cref="AddPeer"/> (one peer) and <see cref="AddPeers"/> (up to a
/// thousand in one request): the field rules, the events (PeerAdded, plus the first enrollment token of an
/// agent-managed peer) and the one-time secret of the answer. The secrets (the token, a static peer's private key)
/// live only in this value and in the response: the events carry the token's hash and the public key.
/// </summary>
public sealed record NewPeer(PeerAdded Added, EnrollmentTokenIssued? Issued, string? EnrollmentToken, WireGuardKeyPair? Keys)
{
    public IEnumerable<object> Events => Issued is null ? [Added] : [Added, Issued];

    /// <summary>A static peer's key, claimed in the same commit so no other peer can hold it.</summary>
    public PublicKeyClaim? Claim => Keys is null ? null : new PublicKeyClaim(Keys.PublicKey, Added.NetworkId, Added.PeerId);

    /// <summary>
    /// The per-field rules of a create request, against the network it goes into; <paramref name="at"/> prefixes the
    /// field names (<c>peers[3].</c> in a bulk request). Not checked here, because a batch checks them across its
    /// items: the name's uniqueness, the requested address and whether the network has room.
    /// </summary>
    public static ValidationErrors CheckFields(
        ValidationErrors errors, string at, AddPeerRequest request, Network network, ProtectedAddresses? protectedAddresses)
    {
        errors.Check(at + "name", PeerRules.Name(request.Name))
            .Check(at + "endpoint", PeerRules.Endpoint(request.Endpoint))
            .Check(at + "listenPort", PeerRules.ListenPort(request.ListenPort))
            .Check(at + "additionalAllowedIps", PeerRules.AdditionalAllowedIps(request.AdditionalAllowedIps, network, null, out _, protectedAddresses));
        if (!PeerRules.TryParseKind(request.Kind, out var kind))
            errors.Add(at + "kind", "kind is required and must be one of: jump, dynamic, static.");
        else
        {
            // A static peer's endpoint is what the others dial for ever (its config never changes): an address
            // unless the network allows DNS names (Agents/AgentRules.Endpoint).
            if (kind == PeerKind.Static && request.Endpoint is not null && PeerRules.Endpoint(request.Endpoint) is null)
                errors.Check(at + "endpoint", AgentRules.Endpoint(request.Endpoint, network.AllowDnsEndpoints));
            errors.Check(at + (kind == PeerKind.Jump && request.Endpoint is null ? "endpoint" : "kind"),
                PeerRules.KindFlags(kind, request.Endpoint, request.Isolated ?? false, request.FullEncapsulation ?? false));
        }
        return errors;
    }

    /// <summary>The peer a valid request (see <see cref="CheckFields"/>) creates at <paramref name="address"/>.</summary>
    public static NewPeer Create(AddPeerRequest request, Network network, string address, Actor actor, DateTimeOffset now)
    {
        PeerRules.TryParseKind(request.Kind, out var kind);
        PeerRules.AdditionalAllowedIps(request.AdditionalAllowedIps, network, null, out var routes);
        var keys = kind == PeerKind.Static ? WireGuardKeyPair.Generate() : null;
        var added = new PeerAdded(network.Id, Guid.CreateVersion7(now), request.Name!, kind, address,
            keys?.PublicKey, request.Endpoint, request.ListenPort is 0 ? null : request.ListenPort, request.Isolated ?? false,
            request.FullEncapsulation ?? false, routes, actor, now);
        if (keys is not null) return new NewPeer(added, null, null, keys);

        var (token, issued) = IssueEnrollmentToken.New(network.Id, added.PeerId, actor, now);
        return new NewPeer(added, issued, token, null);
    }

    /// <summary>
    /// The creation answer: the peer as <paramref name="after"/> (the network with it, and with everything created
    /// in the same request) holds it, with its one-time secret — the enrollment token, or a static peer's complete
    /// config with the private key generated here.
    /// </summary>
    public PeerView View(Network after)
    {
        var view = PeerView.Of(after, after.FindPeer(Added.PeerId)!);
        return Keys is not null
            ? view with { Config = WgQuickRenderer.Render(ConfigBuilder.Build(after, Added.PeerId), Keys.PrivateKey) }
            : view with { EnrollmentToken = EnrollmentToken, EnrollmentTokenExpiresAt = Issued!.ExpiresAt };
    }

    /// <summary>Never print the secrets by accident.</summary>
    public override string ToString() => $"NewPeer {{ PeerId = {Added.PeerId}, Name = {Added.Name} }}";

    public string Location => $"/api/v1/networks/{Added.NetworkId}/peers/{Added.PeerId}";
}
