using Marten;
using Marten.Exceptions;
using Wirety.Events;
using Wirety.Events.Tokens;
using Wirety.Projections.Tokens;
using Wirety.Server.Hosting;

namespace Wirety.Server.Auth;

/// <summary>
/// On first start with an empty store, issues the bootstrap admin token: WIRETY_ADMIN_TOKEN when set,
/// else a random one written to $WIRETY_DATA_DIR/admin-token (0600) and, when standard output is a terminal,
/// printed once there. Redirected output (systemd's journal, a container log, a file) is kept and shipped
/// elsewhere, so the value is then only in the file.
/// </summary>
public sealed class AdminBootstrap(IDocumentStore store, WiretySettings settings, TimeProvider clock, ILogger<AdminBootstrap> log)
    : IHostedService
{
    /// <summary>Fixed stream id: if two instances race on an empty store, the second append collides and stands down.</summary>
    public static readonly Guid BootstrapTokenId = new("00000000-0000-0000-0000-00000000a0a0");

    public static void ValidateConfiguredToken(string? token)
    {
        if (token is not null && !TokenSecrets.IsWellFormedApiToken(token))
            throw new InvalidOperationException(
                $"WIRETY_ADMIN_TOKEN must start with '{TokenSecrets.ApiTokenPrefix}' followed by at least {TokenSecrets.MinimumSecretLength} printable characters; refusing to start.");
    }

    public async Task StartAsync(CancellationToken ct)
    {
        ValidateConfiguredToken(settings.AdminToken);
        await using var session = store.LightweightSession();
        if (await session.Query<ApiToken>().AnyAsync(ct)) return;

        var value = settings.AdminToken ?? TokenSecrets.New(TokenSecrets.ApiTokenPrefix);
        session.Events.StartStream<ApiToken>(BootstrapTokenId,
            new ApiTokenIssued(BootstrapTokenId, "bootstrap-admin", TokenSecrets.Hash(value), null, true, Actor.System, clock.GetUtcNow(), ApiTokenRole.Admin));
        try
        {
            await session.SaveChangesAsync(ct);
        }
        catch (ExistingStreamIdCollisionException)
        {
            return; // another instance bootstrapped first
        }

        if (settings.AdminToken is not null)
        {
            log.LogInformation("Bootstrap admin token created from WIRETY_ADMIN_TOKEN");
            return;
        }

        Directory.CreateDirectory(settings.DataDir);
        var file = Path.Combine(settings.DataDir, "admin-token");
        await File.WriteAllTextAsync(file, "", ct);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await File.WriteAllTextAsync(file, value + "\n", ct); // mode set before the secret is written

        if (Console.IsOutputRedirected)
        {
            log.LogInformation("Bootstrap admin token created and written to {File} (not printed: standard output is not a terminal)", file);
            return;
        }
        // Deliberately the console, not the logger: the value must never reach a log sink.
        Console.WriteLine();
        Console.WriteLine("  Wirety bootstrap admin token (shown once; also saved to " + file + "):");
        Console.WriteLine("  " + value);
        Console.WriteLine();
        log.LogInformation("Bootstrap admin token created and written to {File}", file);
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}
