using Marten;
using Microsoft.AspNetCore.Hosting;
using Wirety.Events;
using Wirety.Events.Networks;
using Wirety.Tests.Api.Agents;
using Wirety.Tests.Api.Harness;

namespace Wirety.Tests.Api.ReadBounds;

/// <summary>
/// A server whose heavy-read bounds are tiny: a 1 ms statement timeout for event queries (no real query over a
/// few thousand events finishes in it) and a replay cap of <see cref="ReplayEventLimit"/> events.
/// </summary>
public sealed class BoundsApp : WiretyApp
{
    public const int ReplayEventLimit = 50;

    protected override void Configure(IWebHostBuilder b)
    {
        b.UseSetting("Wirety:Limits:EventQueryTimeout", "00:00:00.001");
        b.UseSetting("Wirety:Limits:ReplayEventLimit", ReplayEventLimit.ToString());
    }
}

[CollectionDefinition(Name)]
public sealed class BoundsCollection : ICollectionFixture<BoundsApp>
{
    public const string Name = "bounds";
}

public static class HistorySeed
{
    /// <summary>
    /// Appends <paramref name="count"/> renames to a network's stream straight through Marten (the API would take
    /// minutes for thousands): a long history for exports and replays. Each event is ~300 bytes as NDJSON.
    /// </summary>
    public static async Task AppendRenamesAsync(IDocumentStore store, Guid networkId, int count, DateTimeOffset at)
    {
        var actor = new Actor(Guid.NewGuid(), "seed");
        await using var session = store.LightweightSession();
        session.Events.Append(networkId, Enumerable.Range(0, count)
            .Select(i => (object)new NetworkUpdated(networkId, $"corp-{i % 2}", "corp.example", ["10.10.0.1"], 1420, actor, at)).ToArray());
        await session.SaveChangesAsync();
    }
}
