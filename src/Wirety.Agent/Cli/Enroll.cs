using Wirety.Agent.Deltas;
using Wirety.Agent.Identity;
using Wirety.Agent.Logging;
using Wirety.Agent.Running;
using Wirety.Agent.Server;
using Wirety.Agent.State;
using Wirety.Events.Agent;

namespace Wirety.Agent.Cli;

/// <summary>
/// <c>wirety-agent enroll</c>: generate a key pair here, send the public key with the one-time token,
/// and keep the answer (peer id, session token, first config). The token is sent once and then
/// forgotten; the private key never leaves the machine.
/// </summary>
public static class Enroll
{
    public static async Task<int> RunAsync(EnrollCommand command, TextReader stdin, TextWriter stdout, AgentLog log, TimeProvider clock, CancellationToken ct)
    {
        if (RunDecisions.PlainHttpRefusal(command.Server, command.InsecureHttp) is { } refusal)
        {
            log.Error(refusal);
            return CommandLine.UsageExitCode;
        }
        var store = new StateStore(command.StateDirectory);
        if (store.HasIdentity && !command.Force)
        {
            var existing = store.PeekIdentity();
            log.Error($"already enrolled{(existing is null ? "" : $" as peer {existing.PeerId} with {existing.Server}")} " +
                      $"({store.IdentityPath}); pass --force to replace that identity");
            return 1;
        }
        try
        {
            // Before the token is spent: a server answer we could not save would be lost for good.
            store.EnsureWritable();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.Error($"cannot write to {store.Directory}: {e.Message}");
            return 1;
        }

        var token = command.Token?.Reveal() ?? (await stdin.ReadLineAsync(ct).ConfigureAwait(false))?.Trim();
        if (string.IsNullOrEmpty(token))
        {
            log.Error("no enrollment token on stdin");
            return CommandLine.UsageExitCode;
        }
        if (command.Server.Scheme == Uri.UriSchemeHttp && !command.Server.IsLoopback)
            log.Warn($"{command.Server} is plain HTTP (--insecure-http): the enrollment and session tokens cross the network unencrypted");

        var keys = KeyPair.Generate();
        var hostname = command.Hostname ?? Environment.MachineName;
        using var api = new AgentApi(command.Server);
        var outcome = await api.EnrollAsync(new EnrollRequest(token, keys.PublicKey, hostname, AgentVersion.Current), ct).ConfigureAwait(false);
        switch (outcome.Kind)
        {
            case OutcomeKind.Ok:
                break;
            case OutcomeKind.Unauthorized:
                log.Error($"enrollment refused: the token is unknown, already used or expired ({outcome.Detail}); ask an admin for a new one");
                return 1;
            case OutcomeKind.Refused:
                log.Error($"enrollment refused ({(int?)outcome.Status}): {outcome.Detail}");
                return 1;
            default:
                log.Error($"enrollment failed: {outcome.Detail}");
                return 1;
        }

        var response = outcome.Value!;
        if (string.IsNullOrEmpty(response.SessionToken) || response.Config is null)
        {
            log.Error("the server's enrollment answer has no session token or config");
            return 1;
        }
        if (response.SigningKey is not null && !EnvelopeVerifier.IsWellFormedKey(response.SigningKey))
            log.Warn("the server's signing key is not an Ed25519 public key in base64url; not pinned (this agent will not use deltas)");
        else if (response.SigningKey is null)
            log.Info("the server sent no signing key: this agent uses full config fetches (no deltas)");
        try
        {
            Persist(store, command, response, keys, clock);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.Error($"enrolled as peer {response.PeerId}, but saving the identity failed: {e.Message}. " +
                      "The token is used up: ask an admin to delete the peer and issue a new token.");
            return 1;
        }

        await stdout.WriteLineAsync($"enrolled as peer {response.PeerId} in network {response.NetworkId}").ConfigureAwait(false);
        await stdout.WriteLineAsync($"public key: {keys.PublicKey}").ConfigureAwait(false);
        await stdout.WriteLineAsync($"identity:   {store.IdentityPath} (mode 0600)").ConfigureAwait(false);
        await stdout.WriteLineAsync($"next: wirety-agent run{(command.StateDirectory == StateStore.DefaultDirectory ? "" : $" --state-dir {command.StateDirectory}")}")
            .ConfigureAwait(false);
        return 0;
    }

    /// <summary>
    /// Keeps what the enrollment answer is needed for: identity.json (0600) with the key pair and the
    /// session token, and the server's delta-signing key (pinned; only a well-formed one), and the first config as
    /// last-known-good. The enrollment token is not written anywhere.
    /// </summary>
    public static AgentIdentity Persist(StateStore store, EnrollCommand command, EnrollResponse response, KeyPair keys, TimeProvider clock)
    {
        var identity = new AgentIdentity(command.Server, response.PeerId, response.NetworkId, keys,
            new Secret(response.SessionToken), command.Hostname, clock.GetUtcNow(), response.Config.Kind,
            EnvelopeVerifier.IsWellFormedKey(response.SigningKey) ? response.SigningKey : null);
        store.SaveIdentity(identity);
        store.SaveConfig(new SavedConfig(response.Config, null, clock.GetUtcNow()));
        store.SaveState(new AgentStateFile(null, null, null, clock.GetUtcNow(), null));
        return identity;
    }
}
