using Marten;
using Wirety.Projections.Configs;
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

    public static async Task<IResult> ConfigAtAsync(Guid networkId, Guid peerId, string? at, IQuerySession session, CancellationToken ct)
    {
        var point = HistoryPoint.Parse(at, "at", required: true);
        if (point.Rejected is { } rejected) return rejected.ToResult();
        var history = await NetworkHistory.LoadAsync(session, networkId, withRejections: false, ct);
        if (!history.Exists) return NetworkLookup.Missing(networkId).ToResult();
        return ConfigAt(history, peerId, point.Value!) is { } text
            ? Results.Text(text, TextPlain)
            : Rejection.NotFound($"Peer {peerId} was not in network {networkId} at {point.Value}.").ToResult();
    }

    [WolverineGet("/api/v1/networks/{networkId}/peers/{peerId}/config/diff")]
    public static async Task<IResult> Diff(Guid networkId, Guid peerId, string? from, string? to, IQuerySession session, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        var fromPoint = HistoryPoint.Parse(from, "from", required: true);
        var toPoint = HistoryPoint.Parse(to, "to", required: true);
        foreach (var r in new[] { fromPoint.Rejected, toPoint.Rejected }.OfType<Rejection>())
            foreach (var (field, messages) in r.Errors!) foreach (var m in messages) errors.Add(field, m);
        if (errors.Any) return errors.ToRejection().ToResult();

        var history = await NetworkHistory.LoadAsync(session, networkId, withRejections: false, ct);
        if (!history.Exists) return NetworkLookup.Missing(networkId).ToResult();
        var before = ConfigAt(history, peerId, fromPoint.Value!);
        var after = ConfigAt(history, peerId, toPoint.Value!);
        if (before is null && after is null)
            return Rejection.NotFound($"Peer {peerId} was in network {networkId} at neither {fromPoint.Value} nor {toPoint.Value}.").ToResult();
        // A peer that did not exist at one end diffs against an empty config (its creation or removal).
        return Results.Text(UnifiedDiff.Render(before ?? "", after ?? "", $"config@{fromPoint.Value}", $"config@{toPoint.Value}"), TextPlain);
    }

    private static string? ConfigAt(NetworkHistory history, Guid peerId, HistoryPoint point)
    {
        var network = history.AsOf(point.Resolve(history.All)).Network;
        return network?.FindPeer(peerId) is null ? null : WgQuickRenderer.Render(ConfigBuilder.Build(network, peerId));
    }
}
