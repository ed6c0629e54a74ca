using Marten;
using Wirety.Events.Tokens;
using Wirety.Projections.Configs;
using Wirety.Server.Auth;
using Wirety.Server.Networks;
using Wirety.Server.Problems;
using Wolverine.Http;

namespace Wirety.Server.History;

/// <summary>
/// A peer's wg-quick config as it was at a point (<c>GET .../config?at=</c>, answered here from
/// <see cref="Configs.GetPeerConfig"/>), and the unified diff between two points. Rendered by the same
/// pure builder and renderer as the live config, from the network replayed to that point.
/// </summary>
public static class PeerConfigHistory
{
    public const string TextPlain = "text/plain; charset=utf-8";

    public static async Task<IResult> ConfigAtAsync(Guid networkId, Guid peerId, string? at, HttpContext http, IQuerySession session, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        if (!HistoryPoint.TryParse(at, "at", errors, out var point, required: true)) return errors.ToProblem().ToResult();
        var load = await NetworkHistory.LoadBoundedAsync(http, session, networkId, withRejections: false, ct);
        if (load.Refused is { } refused) return refused;
        var history = load.History!;
        if (!history.Exists) return NetworkLookup.Missing(networkId).ToResult();
        return ConfigAt(history, peerId, point) is { } text
            ? Results.Text(text, TextPlain)
            : ApiProblems.NotFound($"Peer {peerId} was not in network {networkId} at {point}.").ToResult();
    }

    [RequiresRole(ApiTokenRole.Admin)]
    [WolverineGet("/api/v1/networks/{networkId}/peers/{peerId}/config/diff")]
    public static async Task<IResult> Diff(Guid networkId, Guid peerId, string? from, string? to, HttpContext http, IQuerySession session, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        // Both parsed, so a request wrong in both says so at once.
        HistoryPoint.TryParse(from, "from", errors, out var fromPoint, required: true);
        HistoryPoint.TryParse(to, "to", errors, out var toPoint, required: true);
        if (fromPoint is null || toPoint is null) return errors.ToProblem().ToResult();

        var load = await NetworkHistory.LoadBoundedAsync(http, session, networkId, withRejections: false, ct);
        if (load.Refused is { } refused) return refused;
        var history = load.History!;
        if (!history.Exists) return NetworkLookup.Missing(networkId).ToResult();
        var before = ConfigAt(history, peerId, fromPoint);
        var after = ConfigAt(history, peerId, toPoint);
        if (before is null && after is null)
            return ApiProblems.NotFound($"Peer {peerId} was in network {networkId} at neither {fromPoint} nor {toPoint}.").ToResult();
        // A peer that did not exist at one end diffs against an empty config (its creation or removal).
        return Results.Text(UnifiedDiff.Render(before ?? "", after ?? "", $"config@{fromPoint}", $"config@{toPoint}"), TextPlain);
    }

    private static string? ConfigAt(NetworkHistory history, Guid peerId, HistoryPoint point)
    {
        var network = history.AsOf(point.Resolve(history.All)).Network;
        return network?.FindPeer(peerId) is null ? null : WgQuickRenderer.Render(ConfigBuilder.Build(network, peerId));
    }
}
