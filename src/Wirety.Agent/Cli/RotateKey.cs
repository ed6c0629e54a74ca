using System.Text;
using Wirety.Agent.Identity;
using Wirety.Agent.Logging;
using Wirety.Agent.Running;
using Wirety.Agent.Server;
using Wirety.Agent.State;
using Wirety.Events.Agent;

namespace Wirety.Agent.Cli;

/// <summary>
/// <c>wirety-agent rotate-key</c>: a new X25519 key pair made here; its public key goes to
/// <c>POST /api/v1/agent/rotate-key</c> with the current session (which proves the caller is this peer); on 200 the new
/// pair replaces the old one in identity.json (atomically, 0600) and the returned config becomes the last-known-good.
/// A running <c>wirety-agent run</c> on the same state directory notices identity.json change and sets the new private
/// key on the interface at once; without one, the next <c>run</c> starts with it. The server tells every other agent
/// (a <c>peer-key-rotated</c> delta, or a config change).
/// <para>
/// The new private key is written to <c>rotate-key.pending</c> (0600) before it is sent: if the answer is lost (the
/// server may have taken the key), running the command again sends the same key instead of a third one.
/// </para>
/// </summary>
public static class RotateKey
{
    public const string PendingFile = "rotate-key.pending";

    public static async Task<int> RunAsync(RotateKeyCommand command, TextWriter stdout, AgentLog log, TimeProvider clock, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(command);
        var store = new StateStore(command.StateDirectory);
        var identity = store.LoadIdentity();
        if (RunDecisions.PlainHttpRefusal(identity.Server, command.InsecureHttp) is { } refusal)
        {
            log.Error(refusal);
            return CommandLine.UsageExitCode;
        }
        var pendingPath = Path.Combine(store.Directory, PendingFile);
        KeyPair keys;
        try
        {
            keys = LoadPending(pendingPath) ?? KeyPair.Generate();
            AtomicFile.Write(pendingPath, Encoding.UTF8.GetBytes(keys.PrivateKey.Reveal()));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.Error($"cannot write to {store.Directory}: {e.Message}");
            return 1;
        }

        using var api = new AgentApi(identity.Server);
        var outcome = await api.RotateKeyAsync(identity.SessionToken, new RotateKeyRequest(keys.PublicKey), ct).ConfigureAwait(false);
        switch (outcome.Kind)
        {
            case OutcomeKind.Ok when outcome.Value?.Config is { Interface: not null } config:
                try
                {
                    // The current file again: a running agent may have pinned the kind meanwhile.
                    store.SaveIdentity(store.LoadIdentity() with { Keys = keys });
                    store.SaveConfig(new SavedConfig(config, null, clock.GetUtcNow()));
                    File.Delete(pendingPath);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    log.Error($"the server took the new key, but saving it failed: {e.Message}. The key is in {pendingPath}; " +
                              "run `wirety-agent rotate-key` again once the directory is writable");
                    return 1;
                }
                await stdout.WriteLineAsync($"key rotated: new public key {keys.PublicKey} (config version {config.Version})").ConfigureAwait(false);
                await stdout.WriteLineAsync($"identity:   {store.IdentityPath} (mode 0600); a running agent switches to the new key now, " +
                                            "otherwise the next `wirety-agent run` does").ConfigureAwait(false);
                return 0;
            case OutcomeKind.Ok:
                log.Error("the server's rotate-key answer has no config; the key was not changed here. Run the command again");
                return 1;
            case OutcomeKind.Unauthorized:
                TryDelete(pendingPath);
                log.Error($"{SessionRevokedException.RevokedText} (HTTP 401 on rotate-key); the key was not changed");
                return RunDecisions.RevokedExitCode;
            case OutcomeKind.Refused:
                TryDelete(pendingPath);
                log.Error($"key rotation refused ({(int?)outcome.Status}): {outcome.Detail}; the key was not changed");
                return 1;
            default:
                log.Error($"key rotation failed: {outcome.Detail}. The server may or may not have taken the new key: run " +
                          "`wirety-agent rotate-key` again (it sends the same key)");
                return 1;
        }
    }

    private static KeyPair? LoadPending(string path)
    {
        if (!File.Exists(path)) return null;
        var text = File.ReadAllText(path).Trim();
        if (text.Length == 0) return null;
        var secret = new Secret(text);
        try
        {
            return new KeyPair(secret, KeyPair.PublicKeyOf(secret));
        }
        catch (FormatException)
        {
            return null; // unusable: a fresh pair instead
        }
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
