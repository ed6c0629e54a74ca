using System.Collections.Concurrent;
using System.Diagnostics;
using JasperFx;
using JasperFx.CodeGeneration;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Wirety.Testing;
using Wolverine;
using Wolverine.Marten;

namespace Wirety.Bench;

/// <summary>
/// How fast one instance's change reaches another, two ways, on one throwaway cluster:
/// <list type="bullet">
/// <item>PostgreSQL <c>NOTIFY</c> sent in the committing transaction and heard on a <c>LISTEN</c>ing
/// connection — what Wirety's change feed does (<c>Changes/ChangeFeed.cs</c>);</item>
/// <item>Wolverine's <c>BroadcastToAllNodesAsync</c> between two Wolverine nodes (Balanced durability on
/// the same database, as the server runs), delivered through Wolverine's database control queue.</item>
/// </list>
/// Each sample is the time from the sender's call to the other side's handler, in one process (one clock);
/// the first <see cref="WarmUp"/> of each are not counted (connection set-up, handler code generation).
/// </summary>
public static class BroadcastBench
{
    private const int WarmUp = 3;

    public static async Task<int> RunAsync(string[] args)
    {
        var samples = BenchArgs.Int(args, "--samples", 50);
        await using var cluster = await PostgresCluster.StartNewAsync(new PostgresClusterOptions { Durable = true });
        var db = await cluster.CreateDatabaseAsync("wirety_broadcast");

        var notify = await MeasureNotifyAsync(db, samples);
        var broadcast = await MeasureBroadcastAsync(db, samples);

        Console.WriteLine();
        Console.WriteLine($"## Wirety bench — cross-instance fan-out ({samples} samples each, fsync on)");
        Console.WriteLine($"NOTIFY in the commit → LISTEN:                {BenchStats.Summary(notify)}");
        Console.WriteLine($"Wolverine BroadcastToAllNodesAsync → handler: {BenchStats.Summary(broadcast)}");
        Console.WriteLine($"p50 ratio broadcast / notify: {BenchStats.Percentile(broadcast, 0.5) / BenchStats.Percentile(notify, 0.5):F0}×");
        return 0;
    }

    private static async Task<List<double>> MeasureNotifyAsync(string db, int samples)
    {
        var heard = new ConcurrentDictionary<string, long>();
        var arrived = new SemaphoreSlim(0);
        await using var listener = new NpgsqlConnection(db);
        await listener.OpenAsync();
        listener.Notification += (_, e) => { heard[e.Payload] = Stopwatch.GetTimestamp(); arrived.Release(); };
        await using (var listen = new NpgsqlCommand("LISTEN wirety_bench", listener)) await listen.ExecuteNonQueryAsync();
        using var stop = new CancellationTokenSource();
        var waiting = Task.Run(async () => { while (!stop.IsCancellationRequested) await listener.WaitAsync(stop.Token); });

        await using var sender = new NpgsqlConnection(db);
        await sender.OpenAsync();
        var latencies = new List<double>();
        for (var i = 0; i < samples + WarmUp; i++)
        {
            var id = $"{i}";
            var sent = Stopwatch.GetTimestamp();
            await using (var tx = await sender.BeginTransactionAsync())
            {
                await using var cmd = new NpgsqlCommand("select pg_notify('wirety_bench', $1)", sender, tx);
                cmd.Parameters.AddWithValue(id);
                await cmd.ExecuteNonQueryAsync();
                await tx.CommitAsync();
            }
            await arrived.WaitAsync(TimeSpan.FromSeconds(10));
            if (i >= WarmUp) latencies.Add(Stopwatch.GetElapsedTime(sent, heard[id]).TotalMilliseconds);
            await Task.Delay(Random.Shared.Next(20, 120)); // changes do not arrive in step with anything
        }
        await stop.CancelAsync();
        try { await waiting; } catch (OperationCanceledException) { }
        return latencies;
    }

    private static async Task<List<double>> MeasureBroadcastAsync(string db, int samples)
    {
        using var a = await StartNodeAsync(db, "a");
        using var b = await StartNodeAsync(db, "b");
        // Both nodes must be registered (and not stale) before a broadcast can address b.
        await Task.Delay(TimeSpan.FromSeconds(5));

        var bus = a.Services.GetRequiredService<IMessageBus>();
        var latencies = new List<double>();
        for (var i = 0; i < samples + WarmUp; i++)
        {
            var ping = new BroadcastPing(Guid.NewGuid());
            var arrival = BroadcastPingHandler.Expect(ping.Id, node: "b");
            var sent = Stopwatch.GetTimestamp();
            await bus.BroadcastToAllNodesAsync(ping);
            var at = await arrival.WaitAsync(TimeSpan.FromSeconds(30));
            if (i >= WarmUp) latencies.Add(Stopwatch.GetElapsedTime(sent, at).TotalMilliseconds);
            await Task.Delay(Random.Shared.Next(20, 120));
        }
        await b.StopAsync();
        await a.StopAsync();
        return latencies;
    }

    private static async Task<IHost> StartNodeAsync(string db, string name)
    {
        var host = Host.CreateDefaultBuilder()
            .ConfigureLogging(l => l.SetMinimumLevel(LogLevel.Warning))
            .ConfigureServices(services =>
            {
                services.AddSingleton(new NodeName(name));
                services.AddMarten(o =>
                {
                    o.Connection(db);
                    o.DatabaseSchemaName = "bench";
                }).IntegrateWithWolverine().ApplyAllDatabaseChangesOnStartup();
            })
            .UseWolverine(opts =>
            {
                opts.ServiceName = "wirety-broadcast-bench";
                opts.ApplicationAssembly = typeof(BroadcastBench).Assembly;
                opts.Durability.Mode = DurabilityMode.Balanced; // as the server runs
                opts.CodeGeneration.TypeLoadMode = TypeLoadMode.Dynamic;
            })
            .Build();
        await host.StartAsync();
        return host;
    }
}

public sealed record NodeName(string Value);

public sealed record BroadcastPing(Guid Id);

public static class BroadcastPingHandler
{
    private static readonly ConcurrentDictionary<(Guid, string), TaskCompletionSource<long>> Waiting = new();

    public static Task<long> Expect(Guid id, string node) =>
        Waiting.GetOrAdd((id, node), _ => new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    public static void Handle(BroadcastPing ping, NodeName node)
    {
        var at = Stopwatch.GetTimestamp();
        if (Waiting.TryGetValue((ping.Id, node.Value), out var arrival)) arrival.TrySetResult(at);
    }
}
