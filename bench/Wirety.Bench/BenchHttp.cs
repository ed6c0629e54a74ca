using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Wirety.Bench;

/// <summary>HTTP steps the benchmarks share.</summary>
public static class BenchHttp
{
    /// <summary>POSTs JSON and returns the response's JSON; a non-success status fails the bench with the body.</summary>
    public static async Task<JsonElement> PostJson(this HttpClient http, string url, object body)
    {
        using var response = await http.PostAsJsonAsync(url, body);
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"POST {url} → {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }
}

/// <summary>What one NDJSON export of the event stream cost: lines, bytes, time, and the server's memory.</summary>
public sealed record ExportMeasurement(long Lines, long Bytes, TimeSpan Elapsed, TimeSpan FirstLine, long RssBefore, long RssPeak)
{
    public double EventsPerSecond => Lines / Elapsed.TotalSeconds;

    public override string ToString() =>
        $"{Lines:N0} events, {Bytes / 1048576.0:F0} MiB in {Elapsed.TotalSeconds:F1} s ({EventsPerSecond:N0} events/s; first line after "
        + $"{FirstLine.TotalMilliseconds:F0} ms); server RSS {RssBefore / 1048576.0:F0} MiB before, peak {RssPeak / 1048576.0:F0} MiB during";

    /// <summary>
    /// Streams <c>GET /api/v1/events{query}</c> as NDJSON to the end while sampling the server's resident memory
    /// every 20 ms. Null when the server has no event-query endpoint (404).
    /// </summary>
    public static async Task<ExportMeasurement?> RunAsync(ServerProcess server, HttpClient admin, string query = "")
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/events" + query);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/x-ndjson"));
        var before = server.ResidentBytes();
        var peak = before;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, server.ResidentBytes());
                try { await Task.Delay(20, sampling.Token); } catch (OperationCanceledException) { }
            }
        });
        try
        {
            var clock = Stopwatch.StartNew();
            using var response = await admin.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            if (response.StatusCode == HttpStatusCode.NotFound) return null;
            response.EnsureSuccessStatusCode();
            long lines = 0, bytes = 0;
            var firstLine = TimeSpan.Zero;
            await using var body = await response.Content.ReadAsStreamAsync();
            var buffer = new byte[1 << 16];
            int read;
            while ((read = await body.ReadAsync(buffer)) > 0)
            {
                var newLines = buffer.AsSpan(0, read).Count((byte)'\n');
                if (lines == 0 && newLines > 0) firstLine = clock.Elapsed;
                lines += newLines;
                bytes += read;
            }
            return new ExportMeasurement(lines, bytes, clock.Elapsed, firstLine, before, peak);
        }
        finally
        {
            sampling.Cancel();
            await sampler;
        }
    }
}
