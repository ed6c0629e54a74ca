using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Wirety.Bench;

/// <summary>Drives an HTTP POST load with wrk, each request authenticated by one of the given bearer tokens in turn.</summary>
public static partial class Wrk
{
    public sealed record Result(double PerSecond, double P50Ms, double P99Ms, long Requests);

    public static async Task<Result> RunAsync(Uri server, string path, string body, IReadOnlyList<string> bearers, int connections, int seconds)
    {
        if (!File.Exists("/usr/bin/wrk"))
            throw new InvalidOperationException("wrk is not installed: run `ops/install-prereqs.sh wrk` (or `apt-get install wrk`).");
        var dir = Directory.CreateTempSubdirectory("wirety-wrk-").FullName;
        try
        {
            var tokens = Path.Combine(dir, "tokens.txt");
            await File.WriteAllLinesAsync(tokens, bearers);
            var script = Path.Combine(dir, "post.lua");
            await File.WriteAllTextAsync(script, $$"""
                local tokens = {}
                for line in io.lines("{{tokens}}") do tokens[#tokens + 1] = line end
                local n = 0
                wrk.method = "POST"
                wrk.headers["Content-Type"] = "application/json"
                wrk.body = [[{{body}}]]
                request = function()
                  n = n + 1
                  return wrk.format(nil, "{{path}}", { ["Authorization"] = "Bearer " .. tokens[(n % #tokens) + 1] })
                end
                """);
            var info = new ProcessStartInfo("wrk", ["-t2", $"-c{connections}", $"-d{seconds}s", "--latency", "-s", script, server.ToString()])
            {
                RedirectStandardOutput = true, RedirectStandardError = true,
            };
            using var process = Process.Start(info)!;
            var output = await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            if (process.ExitCode != 0) throw new InvalidOperationException("wrk failed:\n" + output + await process.StandardError.ReadToEndAsync());
            if (NonSuccess().Match(output) is { Success: true } bad)
                throw new InvalidOperationException($"{bad.Groups[1].Value} requests failed (non-2xx):\n{output}");

            return new Result(
                double.Parse(PerSecond().Match(output).Groups[1].Value, CultureInfo.InvariantCulture),
                Millis(Percentile("50").Match(output)), Millis(Percentile("99").Match(output)),
                long.Parse(Requests().Match(output).Groups[1].Value, CultureInfo.InvariantCulture));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    private static Regex Percentile(string p) => new($@"^\s*{p}%\s+([\d.]+)(us|ms|s)\s*$", RegexOptions.Multiline);

    private static double Millis(Match m)
    {
        if (!m.Success) throw new InvalidOperationException("wrk printed no latency distribution.");
        var value = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        return m.Groups[2].Value switch { "us" => value / 1000, "s" => value * 1000, _ => value };
    }

    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")] private static partial Regex PerSecond();
    [GeneratedRegex(@"(\d+) requests in")] private static partial Regex Requests();
    [GeneratedRegex(@"Non-2xx or 3xx responses: (\d+)")] private static partial Regex NonSuccess();
}
