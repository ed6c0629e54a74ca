using System.Globalization;

namespace Wirety.Tests.IdP;

/// <summary>The provider's command line (see the comment atop Program.cs).</summary>
public sealed record IdpSettings(
    int Port,
    Uri Issuer,
    string ClientId,
    string ClientSecret,
    IReadOnlyList<Uri> RedirectUris,
    bool AllowLoopbackCallbacks,
    string AutomationClientId,
    string AutomationClientSecret,
    IReadOnlyList<string> AutomationGroups,
    string Audience,
    int? ExitWithPid)
{
    /// <summary>The redirect path accepted on any loopback port with <c>--allow-loopback-callbacks</c>.</summary>
    public const string CallbackPath = "/api/v1/auth/oidc/callback";

    public static IdpSettings Parse(string[] args)
    {
        var values = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var flags = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            if (!name.StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"unexpected argument '{name}'");
            if (name == "--allow-loopback-callbacks") { flags.Add(name); continue; }
            if (i + 1 >= args.Length) throw new ArgumentException($"{name} needs a value");
            if (!values.TryGetValue(name, out var list)) values[name] = list = [];
            list.Add(args[++i]);
        }

        string? One(string name) => values.TryGetValue(name, out var list) ? list[^1] : null;
        var known = new[] { "--port", "--issuer", "--client-id", "--client-secret", "--redirect-uri", "--automation-client-id",
            "--automation-client-secret", "--automation-groups", "--audience", "--exit-with-pid" };
        if (values.Keys.FirstOrDefault(k => !known.Contains(k)) is { } unknown) throw new ArgumentException($"unknown option '{unknown}'");

        if (!int.TryParse(One("--port"), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
            throw new ArgumentException("--port N (1-65535) is required");
        var issuer = new Uri(One("--issuer") ?? $"http://127.0.0.1:{port}/", UriKind.Absolute);
        var redirectUris = (values.GetValueOrDefault("--redirect-uri") ?? []).Select(u => new Uri(u, UriKind.Absolute)).ToList();
        var groups = (One("--automation-groups") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return new IdpSettings(port, issuer,
            One("--client-id") ?? "wirety-ui", One("--client-secret") ?? "wirety-ui-secret", redirectUris,
            flags.Contains("--allow-loopback-callbacks"),
            One("--automation-client-id") ?? "wirety-automation", One("--automation-client-secret") ?? "wirety-automation-secret",
            groups, One("--audience") ?? "wirety",
            One("--exit-with-pid") is { } pid ? int.Parse(pid, NumberStyles.None, CultureInfo.InvariantCulture) : null);
    }
}
