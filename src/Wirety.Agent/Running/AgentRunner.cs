using System.Threading.Channels;
using Wirety.Agent.Deltas;
using Wirety.Agent.Filtering;
using Wirety.Agent.Forwarding;
using Wirety.Agent.Identity;
using Wirety.Agent.Logging;
using Wirety.Agent.Reconcile;
using Wirety.Agent.Server;
using Wirety.Agent.State;
using Wirety.Agent.WireGuard;
using Wirety.Events.Agent;

namespace Wirety.Agent.Running;

public sealed record RunOptions(
    string StateDirectory,
    string Interface,
    bool Userspace,
    TimeSpan HeartbeatInterval,
    TimeSpan PollInterval,
    IReadOnlyList<string> Endpoints,
    bool Verbose,
    bool InsecureHttp = false,
    bool AllowRouting = false,
    bool AllowFullTunnel = false);

/// <summary>
/// <c>wirety-agent run</c>: three loops sharing one session.
/// Config — applies the last-known-good config at once, then fetches (with ETag) on start, on every
/// push, after every WebSocket (re)connect and every poll interval, and reconciles the interface on
/// each pass (so drift is undone even when nothing changed). Heartbeat — reports listen port and
/// per-peer stats. Listener — the WebSocket for pushes.
/// With a signing key pinned at enrollment the listener asks for signed deltas: a verified envelope that follows the
/// running config version is applied at once with targeted steps (no fetch); a gap, a bad signature or anything
/// the agent cannot apply falls back to a full fetch. A change of identity.json (<c>wirety-agent rotate-key</c>)
/// switches the interface to the new key pair.
/// Fail-static: no server answer ever changes the interface; only a 401 ends the run (exit 3).
/// SIGINT/SIGTERM end it with exit 0 and leave the interface up.
/// </summary>
public sealed class AgentRunner(
    RunOptions options, AgentIdentity identity, StateStore store, IWireGuard wg, IForwarding forwarding, IPacketFilter filter, AgentLog log, TimeProvider clock)
{
    private readonly Channel<string> _kicks = Channel.CreateBounded<string>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Channel<AgentEnvelope> _deltas = Channel.CreateUnbounded<AgentEnvelope>(new UnboundedChannelOptions { SingleReader = true });
    private readonly EnvelopeVerifier? _verifier = EnvelopeVerifier.For(identity.PeerId, identity.SigningKey);
    private string? _etag;
    private readonly TaskCompletionSource _firstPass = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _stateGate = new();
    private readonly DateTimeOffset _startedAt = clock.GetUtcNow();
    private AgentStateFile _state = store.LoadState();
    private AgentConfig? _current;
    private string? _revokedBy;
    private CancellationTokenSource? _session;
    private Reachability? _reachability;

    public async Task<int> RunAsync(CancellationToken stop)
    {
        // identity.json holds the server URL given to `enroll`; it is checked again here, so an edited
        // file or an identity enrolled with --insecure-http needs the flag on `run` as well.
        if (RunDecisions.PlainHttpRefusal(identity.Server, options.InsecureHttp) is { } refusal)
        {
            log.Error(refusal);
            return Cli.CommandLine.UsageExitCode;
        }
        using var api = new AgentApi(identity.Server);
        using var session = CancellationTokenSource.CreateLinkedTokenSource(stop);
        _session = session;
        _reachability = new Reachability(log, clock, identity.Server.Authority);
        var policy = LocalPolicy.For(PinnedKind(), options.AllowRouting, options.AllowFullTunnel);
        var servers = new ServerAddresses(identity.Server, log);
        var pass = new InterfacePass(wg, forwarding, filter, options.Interface, identity.Keys, log, policy, servers.ResolveAsync);
        log.Info($"wirety-agent {AgentVersion.Current}: peer {identity.PeerId} on {identity.Server}, interface {options.Interface}" +
                 (options.Userspace ? " (wireguard-go)" : ""));
        if (_verifier is not null) log.Info("deltas on: the server's signing key is pinned; only signed deltas are applied");
        else if (identity.SigningKey is not null) log.Warn($"{store.IdentityPath}: the pinned signing key is malformed; deltas off (full fetches only)");
        else log.Info("deltas off: this identity pinned no signing key at enrollment (re-enroll to get deltas); full fetches only");
        using var identityWatch = WatchIdentity();

        Task[] loops =
        [
            ConfigLoopAsync(api, pass, session.Token),
            HeartbeatLoopAsync(api, session.Token),
            ListenerLoopAsync(session.Token),
        ];
        // Any loop ending ends the run: a stop signal, a revoked session, or a bug (then exit 1 and
        // let the supervisor restart us; the interface stays as it is meanwhile).
        await Task.WhenAny(loops).ConfigureAwait(false);
        await session.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(loops).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // inspected below, per task
        }

        if (_revokedBy is not null)
        {
            log.Error($"{SessionRevokedException.RevokedText} (HTTP 401 on {_revokedBy}); stopping.");
            // The session is gone, and no peer answers through this tunnel any more: a full tunnel left in
            // place would black-hole the host. Not on SIGTERM or an outage: there the tunnel stays (fail-static).
            using var release = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var failures = await pass.ReleaseHostAsync(release.Token).ConfigureAwait(false);
            foreach (var failure in failures) log.Warn($"{options.Interface}: while releasing the host's routing: {failure}");
            log.Info($"{options.Interface}: full tunnel, routes into the tunnel and masquerade rules removed; the interface and its packet filter stay " +
                     $"(remove them with `ip link del {options.Interface}` and see docs/agent.md)");
            return RunDecisions.RevokedExitCode;
        }
        var failed = loops.FirstOrDefault(t => t.IsFaulted && t.Exception?.GetBaseException() is not OperationCanceledException);
        if (failed is not null)
        {
            log.Error($"stopping after an unexpected error: {failed.Exception!.GetBaseException().Message}");
            return 1;
        }
        log.Info($"stopped; {options.Interface} stays up with its last configuration (fail-static)");
        return 0;
    }

    /// <summary>
    /// The kind the server gave at enrollment. An identity from before the kind was kept takes it once
    /// from the last-known-good config, which that older agent already trusted, and keeps it from then on.
    /// </summary>
    private string? PinnedKind()
    {
        if (identity.Kind is not null) return identity.Kind;
        var saved = store.LoadConfig()?.Config.Kind;
        if (saved is null) return null;
        try
        {
            store.SaveIdentity(identity with { Kind = saved });
            log.Info($"pinned this peer's kind '{saved}' (from the last-known-good config) in {store.IdentityPath}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.Warn($"cannot pin this peer's kind in {store.IdentityPath}: {e.Message}");
        }
        return saved;
    }

    private void Revoke(string where)
    {
        _revokedBy ??= where;
        _session?.Cancel();
    }

    private void Kick(string why) => _kicks.Writer.TryWrite(why);

    // ---- config

    private async Task ConfigLoopAsync(AgentApi api, InterfacePass pass, CancellationToken ct)
    {
        var saved = store.LoadConfig();
        _etag = saved?.ETag;
        _current = RunDecisions.StartupConfig(saved);
        if (_current is not null)
        {
            // Fail-static from the first second: the tunnel comes up even if the server never answers.
            log.Info($"applying last-known-good config version {_current.Version} (saved {saved!.SavedAt:u})");
            pass.Seed(_current);
            await pass.ApplyAsync(_current, ct).ConfigureAwait(false);
        }

        while (!ct.IsCancellationRequested)
        {
            ReloadKeysIfRotated(pass);
            var outcome = await api.GetConfigAsync(identity.SessionToken, _current is null ? null : _etag, ct).ConfigureAwait(false);
            _reachability!.Observe(outcome.Kind, outcome.Detail);
            if (outcome.Kind is OutcomeKind.Ok or OutcomeKind.NotModified or OutcomeKind.Refused) UpdateState(s => s with { LastServerContactAt = clock.GetUtcNow() });

            var decision = RunDecisions.OnConfigFetch(outcome, _current, _etag);
            if (decision.Action == ConfigAction.Stop)
            {
                Revoke("config");
                return;
            }
            if (decision.Problem is not null && outcome.Kind == OutcomeKind.Refused) log.Warn(decision.Problem);

            if (decision.Config is not null)
            {
                if (decision.Action == ConfigAction.Apply && _current?.Version != decision.Config.Version)
                    log.Info(_current is null
                        ? $"received config version {decision.Config.Version}"
                        : $"config changed: version {_current.Version} → {decision.Config.Version}");
                var result = await pass.ApplyAsync(decision.Config, ct).ConfigureAwait(false);
                if (result.Invalid is null)
                {
                    var isNew = decision.Action == ConfigAction.Apply;
                    _current = decision.Config;
                    _etag = decision.ETag;
                    if (result.Succeeded)
                    {
                        if (isNew) SaveLastKnownGood(new SavedConfig(decision.Config, _etag, clock.GetUtcNow()));
                        UpdateState(s => s with
                        {
                            LastConfigVersion = decision.Config.Version,
                            LastConfigAppliedAt = isNew || s.LastConfigVersion != decision.Config.Version ? clock.GetUtcNow() : s.LastConfigAppliedAt,
                            LastError = null,
                        });
                    }
                    else
                    {
                        UpdateState(s => s with { LastError = string.Join("; ", result.Failures) });
                    }
                }
                else
                {
                    UpdateState(s => s with { LastError = $"config version {decision.Config.Version}: {result.Invalid}" });
                }
            }
            _firstPass.TrySetResult();

            // Deltas are applied here, between fetches, so one loop owns the config and the interface. The poll
            // interval counts from the last fetch: deltas do not postpone the periodic full pass.
            var nextPoll = clock.GetUtcNow() + options.PollInterval;
            while (await WaitAsync(nextPoll - clock.GetUtcNow(), ct).ConfigureAwait(false) == Wake.Delta)
                if (!await ApplyQueuedDeltasAsync(pass, ct).ConfigureAwait(false)) break;
        }
    }

    private enum Wake { Delta, Kick, Poll }

    private async Task<Wake> WaitAsync(TimeSpan timeout, CancellationToken ct)
    {
        if (_deltas.Reader.TryPeek(out _)) return Wake.Delta;
        if (_kicks.Reader.TryRead(out var kicked))
        {
            log.Debug($"fetching config: {kicked}");
            return Wake.Kick;
        }
        if (timeout <= TimeSpan.Zero) return Wake.Poll;
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct);
        wait.CancelAfter(timeout);
        var delta = _deltas.Reader.WaitToReadAsync(wait.Token).AsTask();
        var kick = _kicks.Reader.WaitToReadAsync(wait.Token).AsTask();
        await Task.WhenAny(delta, kick).ConfigureAwait(false);
        await wait.CancelAsync().ConfigureAwait(false);
        ct.ThrowIfCancellationRequested();
        if (_deltas.Reader.TryPeek(out _)) return Wake.Delta;
        if (_kicks.Reader.TryRead(out var why))
        {
            log.Debug($"fetching config: {why}");
            return Wake.Kick;
        }
        return Wake.Poll;
    }

    /// <summary>Applies the queued envelopes in order; false when one needs a full fetch instead (the rest stay queued).</summary>
    private async Task<bool> ApplyQueuedDeltasAsync(InterfacePass pass, CancellationToken ct)
    {
        AgentConfig? unsaved = null;
        try
        {
            return await ApplyQueuedDeltasAsync(pass, applied => unsaved = applied, ct).ConfigureAwait(false);
        }
        finally
        {
            // Once per batch rather than per envelope: config.json holds the whole config.
            if (unsaved is not null) SaveLastKnownGood(new SavedConfig(unsaved, null, clock.GetUtcNow()));
        }
    }

    private async Task<bool> ApplyQueuedDeltasAsync(InterfacePass pass, Action<AgentConfig?> toSave, CancellationToken ct)
    {
        while (_deltas.Reader.TryRead(out var envelope))
        {
            if (_current is null)
            {
                log.Info($"delta {envelope.Type} {envelope.NetworkVersion} before any config; fetching the whole config");
                return false;
            }
            var delta = DeltaApplication.Apply(_current, envelope);
            if (delta.Outcome == DeltaOutcome.Stale)
            {
                log.Debug($"ignoring a stale delta: {delta.Detail}");
                continue;
            }
            if (delta.Outcome == DeltaOutcome.Resync)
            {
                log.Info($"delta not applied ({delta.Detail}); fetching the whole config");
                return false;
            }
            var next = delta.Config!;
            log.Info($"delta {envelope.Type}: version {_current.Version} → {next.Version}: {delta.Detail}");
            var result = await pass.ApplyDeltaAsync(next, delta.FullPass, ct).ConfigureAwait(false);
            if (result.Invalid is not null)
            {
                UpdateState(s => s with { LastError = $"config version {next.Version}: {result.Invalid}" });
                return false;
            }
            _current = next;
            // The saved ETag named the config before the delta; the next fetch asks without one.
            _etag = null;
            if (result.Succeeded)
            {
                toSave(next);
                UpdateState(s => s with { LastConfigVersion = next.Version, LastConfigAppliedAt = clock.GetUtcNow(), LastError = null });
            }
            else
            {
                toSave(null); // not last-known-good: a restart starts from the config before it
                UpdateState(s => s with { LastError = string.Join("; ", result.Failures) });
            }
        }
        return true;
    }

    // ---- key rotation

    /// <summary>Wakes the config loop when identity.json is replaced (by <c>rotate-key</c>); null when it cannot watch.</summary>
    private FileSystemWatcher? WatchIdentity()
    {
        try
        {
            var watcher = new FileSystemWatcher(store.Directory) { NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite };
            void OnChange(object? sender, FileSystemEventArgs e)
            {
                if (e.Name == Path.GetFileName(store.IdentityPath)) Kick("identity.json changed");
            }
            watcher.Changed += OnChange;
            watcher.Created += OnChange;
            watcher.Renamed += (sender, e) => OnChange(sender, e);
            watcher.EnableRaisingEvents = true;
            return watcher;
        }
        catch (Exception e) when (e is IOException or ArgumentException or PlatformNotSupportedException)
        {
            log.Debug($"not watching {store.IdentityPath} ({e.Message}); a rotated key is picked up at the next poll");
            return null;
        }
    }

    /// <summary>
    /// Before every fetch: if identity.json holds a different key pair than the interface (after <c>rotate-key</c>),
    /// switch to it. Same peer and server only; anything else needs a restart.
    /// </summary>
    private void ReloadKeysIfRotated(InterfacePass pass)
    {
        var peek = store.PeekIdentity();
        if (peek is null || peek.PublicKey == pass.PublicKey) return;
        try
        {
            var loaded = store.LoadIdentity();
            if (loaded.PeerId != identity.PeerId)
            {
                log.Warn($"{store.IdentityPath} now belongs to peer {loaded.PeerId}; restart the agent to use it");
                return;
            }
            pass.UseKeys(loaded.Keys);
            log.Info($"new key pair in {store.IdentityPath} (rotate-key): public key {loaded.Keys.PublicKey}; setting it on {options.Interface}");
        }
        catch (StateException e)
        {
            log.Warn($"identity.json changed but cannot be used: {e.Message}");
        }
    }

    // ---- heartbeats

    private async Task HeartbeatLoopAsync(AgentApi api, CancellationToken ct)
    {
        // The first heartbeat waits for the first pass, so it reports the configured listen port.
        await Task.WhenAny(_firstPass.Task, Task.Delay(TimeSpan.FromSeconds(15), clock, ct)).ConfigureAwait(false);
        ct.ThrowIfCancellationRequested();
        var hostname = identity.Hostname ?? Environment.MachineName;
        while (!ct.IsCancellationRequested)
        {
            WgDevice? device = null;
            try
            {
                device = await wg.ShowAsync(options.Interface, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is WireGuardCommandException or FormatException)
            {
                log.Debug($"heartbeat without interface stats: {e.Message}");
            }
            var body = Heartbeats.Build(hostname, device, clock.GetUtcNow() - _startedAt, options.Endpoints);
            var outcome = await api.HeartbeatAsync(identity.SessionToken, body, ct).ConfigureAwait(false);
            _reachability!.Observe(outcome.Kind, outcome.Detail);
            if (RunDecisions.HeartbeatStops(outcome.Kind))
            {
                Revoke("heartbeat");
                return;
            }
            if (outcome.Kind == OutcomeKind.Ok) UpdateState(s => s with { LastHeartbeatAt = clock.GetUtcNow(), LastServerContactAt = clock.GetUtcNow() });
            else if (outcome.Kind == OutcomeKind.Refused) log.Warn($"heartbeat refused ({(int?)outcome.Status}): {outcome.Detail}");
            await Task.Delay(options.HeartbeatInterval, clock, ct).ConfigureAwait(false);
        }
    }

    // ---- pushes

    private async Task ListenerLoopAsync(CancellationToken ct)
    {
        var listener = new ConfigChangeListener(identity.Server, identity.SessionToken, log, clock, _verifier);
        try
        {
            await listener.RunAsync(
                onConnected: () =>
                {
                    Kick("websocket (re)connected");
                    return Task.CompletedTask;
                },
                onConfigChanged: version =>
                {
                    if (RunDecisions.PushNeedsFetch(version, _current)) Kick(version is null ? "resync" : $"server pushed config-changed {version}");
                    return Task.CompletedTask;
                },
                ct,
                onDelta: _verifier is null ? null : envelope => _deltas.Writer.WriteAsync(envelope, ct).AsTask()).ConfigureAwait(false);
        }
        catch (SessionRevokedException e)
        {
            Revoke(e.Where);
        }
    }

    private void SaveLastKnownGood(SavedConfig saved)
    {
        try
        {
            store.SaveConfig(saved);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.Warn($"cannot save the last-known-good config to {store.ConfigPath}: {e.Message}");
        }
    }

    private void UpdateState(Func<AgentStateFile, AgentStateFile> change)
    {
        lock (_stateGate)
        {
            var next = change(_state);
            if (next == _state) return;
            _state = next;
            try
            {
                store.SaveState(next);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                log.Warn($"cannot write {store.StatePath}: {e.Message}");
            }
        }
    }
}

/// <summary>Logs when the server becomes unreachable and when it is back, instead of every failed call.</summary>
internal sealed class Reachability(AgentLog log, TimeProvider clock, string server)
{
    private static readonly TimeSpan Reminder = TimeSpan.FromMinutes(10);
    private readonly Lock _gate = new();
    private DateTimeOffset? _downSince;
    private DateTimeOffset _lastReminder;

    public void Observe(OutcomeKind kind, string detail)
    {
        lock (_gate)
        {
            var now = clock.GetUtcNow();
            if (kind == OutcomeKind.Unreachable)
            {
                if (_downSince is null)
                {
                    _downSince = _lastReminder = now;
                    log.Warn($"server unreachable ({detail}); keeping the tunnel as it is and retrying");
                }
                else if (now - _lastReminder >= Reminder)
                {
                    _lastReminder = now;
                    log.Warn($"server still unreachable after {(now - _downSince.Value).TotalMinutes:0} min ({detail})");
                }
            }
            else if (_downSince is { } since)
            {
                _downSince = null;
                log.Info($"server {server} reachable again after {(now - since).TotalSeconds:0} s");
            }
        }
    }
}
