using System.Net;
using System.Net.Sockets;
using Wirety.Agent.Filtering;
using Wirety.Agent.Forwarding;
using Wirety.Agent.Identity;
using Wirety.Agent.Logging;
using Wirety.Agent.Reconcile;
using Wirety.Agent.WireGuard;
using Wirety.Events.Addressing;
using Wirety.Events.Agent;

namespace Wirety.Agent.Running;

/// <summary>The outcome of one reconcile pass.</summary>
/// <param name="Invalid">The config could not be turned into a desired state (nothing was changed).</param>
public sealed record PassResult(int Changes, IReadOnlyList<string> Failures, string? Invalid)
{
    public bool Succeeded => Invalid is null && Failures.Count == 0;
}

/// <summary>
/// One reconcile pass: config → desired state → packet filter → plan against the live interface →
/// apply, plus forwarding and NAT on peers that forward for others. Remembers the last applied state (for endpoint roaming) and
/// the last warnings, so a persistent problem is logged once, not on every pass.
/// </summary>
/// <param name="policy">What this host allows the config to do (<see cref="LocalPolicy"/>); null applies everything.</param>
/// <param name="serverAddresses">The server's current addresses, asked on every pass; null: none known.</param>
public sealed class InterfacePass(
    IWireGuard wg, IForwarding forwarding, IPacketFilter filter, string iface, KeyPair keys, AgentLog log,
    LocalPolicy? policy = null, Func<CancellationToken, Task<IReadOnlyList<IPAddress>>>? serverAddresses = null)
{
    private readonly LocalPolicy _policy = policy ?? LocalPolicy.TrustServer;
    private DesiredState? _lastApplied;
    private HashSet<string> _lastProblems = [];
    private bool? _forwardingActive;
    private bool? _filterActive;
    private bool _dnsWarned;
    private KeyPair _keys = keys;
    private IReadOnlyList<IPAddress> _lastServers = [];

    public string Interface => iface;

    /// <summary>This agent's key pair as the pass applies it.</summary>
    public string PublicKey => _keys.PublicKey;

    /// <summary>
    /// Switches to a new key pair (after <c>wirety-agent rotate-key</c>): the next pass sets the new private key on
    /// the interface, since the interface's public key no longer matches.
    /// </summary>
    public void UseKeys(KeyPair next)
    {
        ArgumentNullException.ThrowIfNull(next);
        _keys = next;
        _lastApplied = null; // the next pass reads the interface and converges it
    }

    /// <summary>Tells the pass which config the interface was last converged to (the saved last-known-good).</summary>
    public void Seed(AgentConfig config)
    {
        try { _lastApplied = DesiredState.From(config, _keys.PublicKey, _policy); }
        catch (InvalidConfigException) { _lastApplied = null; }
    }

    public async Task<PassResult> ApplyAsync(AgentConfig config, CancellationToken ct)
    {
        var servers = serverAddresses is null ? [] : await serverAddresses(ct).ConfigureAwait(false);
        _lastServers = servers;
        DesiredState desired;
        try
        {
            desired = DesiredState.From(config, _keys.PublicKey, _policy with { ServerAddresses = servers });
        }
        catch (InvalidConfigException e)
        {
            Report([$"config version {config.Version} cannot be applied: {e.Message}"], LogLevel.Error);
            return new PassResult(0, [], e.Message);
        }
        if (config.Interface.Dns is { Count: > 0 } dns && !_dnsWarned)
        {
            _dnsWarned = true;
            log.Info($"the config names DNS resolvers ({string.Join(", ", dns)}); the agent does not change this host's resolver settings");
        }

        // The filter goes first: a new interface does not come up ahead of it, and a narrower filter
        // takes effect before new peers do.
        var warnings = desired.Warnings.ToList();
        var (filterChanges, filterFailures) = await ApplyFilterAsync(config, warnings, ct).ConfigureAwait(false);

        InterfaceState? actual;
        try
        {
            actual = await wg.ReadAsync(iface, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is WireGuardCommandException or FormatException or System.Text.Json.JsonException)
        {
            // Cannot even look at the interface (tools missing, not a WireGuard device): retried next pass.
            var failure = $"cannot read {iface}: {e.Message}";
            Report([failure, .. filterFailures], LogLevel.Error);
            return new PassResult(filterChanges, [failure, .. filterFailures], null);
        }
        var plan = Reconciler.Plan(desired, actual, _lastApplied);
        if (!plan.IsEmpty)
            log.Info($"{iface}: {(actual is null ? "creating interface; " : "")}{plan.Steps.Count} change(s) for config version {config.Version}: " +
                     string.Join("; ", plan.Steps.Select(s => s.Describe())));
        var result = await PlanExecutor.ApplyAsync(wg, iface, plan, _keys.PrivateKey, log, ct).ConfigureAwait(false);

        var failures = result.Failures.ToList();
        var changes = result.Applied + filterChanges;
        failures.AddRange(filterFailures);
        failures.AddRange(await ApplyForwardingAsync(config, warnings, ct).ConfigureAwait(false));

        Report([.. warnings, .. failures], LogLevel.Warn);
        if (failures.Count == 0) _lastApplied = desired;
        return new PassResult(changes, failures, null);
    }

    /// <summary>
    /// Applies the config after one delta with targeted steps only (<see cref="Reconciler.PlanChange"/>: the one peer
    /// added, updated or removed, or the interface section), without reading the interface or touching the packet
    /// filter and forwarding. Falls back to a full <see cref="ApplyAsync"/> when <paramref name="fullPass"/> (a whole
    /// config replaced) or when the interface is not known to match the last config (no successful pass yet).
    /// </summary>
    public async Task<PassResult> ApplyDeltaAsync(AgentConfig config, bool fullPass, CancellationToken ct)
    {
        if (fullPass || _lastApplied is not { } previous) return await ApplyAsync(config, ct).ConfigureAwait(false);
        // The server's addresses as the last full pass resolved them: a delta does not wait for DNS.
        var servers = _lastServers;
        DesiredState desired;
        try
        {
            desired = DesiredState.From(config, _keys.PublicKey, _policy with { ServerAddresses = servers });
        }
        catch (InvalidConfigException e)
        {
            Report([$"config version {config.Version} cannot be applied: {e.Message}"], LogLevel.Error);
            return new PassResult(0, [], e.Message);
        }
        var plan = Reconciler.PlanChange(previous, desired);
        if (!plan.IsEmpty)
            log.Info($"{iface}: {plan.Steps.Count} change(s) for config version {config.Version}: " + string.Join("; ", plan.Steps.Select(s => s.Describe())));
        var result = await PlanExecutor.ApplyAsync(wg, iface, plan, _keys.PrivateKey, log, ct).ConfigureAwait(false);
        var failures = result.Failures.ToList();
        // Problems the last full pass already reported are not repeated; the next full pass takes over the bookkeeping.
        foreach (var problem in desired.Warnings.Concat(failures).Where(p => !_lastProblems.Contains(p))) log.Warn($"{iface}: {problem}");
        // A failed step leaves the interface between states: the next full pass reads it and converges.
        _lastApplied = failures.Count == 0 ? desired : null;
        return new PassResult(result.Applied, failures, null);
    }

    /// <summary>Installs, updates or removes the packet filter; a config without one removes it (checked once, then only after a change).</summary>
    private async Task<(int Changes, List<string> Failures)> ApplyFilterAsync(AgentConfig config, List<string> warnings, CancellationToken ct)
    {
        var ruleset = config.Filter is null ? null : FilterRuleset.Read(config.Filter, warnings);
        if (ruleset is null && _filterActive == false) return (0, []);
        try
        {
            var changes = await filter.ApplyAsync(iface, ruleset, ct).ConfigureAwait(false);
            foreach (var change in changes) log.Info(change);
            _filterActive = ruleset is not null;
            return (changes.Count, []);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The old filter stays in force: both backends replace it atomically.
            return (0, [$"packet filter: {e.Message}"]);
        }
    }

    private async Task<List<string>> ApplyForwardingAsync(AgentConfig config, List<string> warnings, CancellationToken ct)
    {
        var problems = new List<string>();
        // Jumps, and peers that route a subnet or an exit for others: the server sends forwarding for both.
        // Only a peer enrolled as a jump, or one whose owner passed --allow-routing, acts on it.
        var forwards = config.Forwarding is not null && _policy.MayForward;
        if (config.Forwarding is not null && !forwards) warnings.Add(LocalPolicy.ForwardingRefused);
        // Forwarding for nobody: clean up once (first pass, or after this peer stopped forwarding).
        if (!forwards && _forwardingActive == false) return problems;
        try
        {
            var sources = new List<IpPrefix>();
            if (forwards)
            {
                await forwarding.EnableIpForwardingAsync(ct).ConfigureAwait(false);
                foreach (var text in config.Forwarding!.MasqueradeSources ?? [])
                {
                    if (IpPrefix.TryNormalize(text, out var prefix)) sources.Add(prefix);
                    else problems.Add($"ignoring malformed masquerade source '{text}'");
                }
            }
            foreach (var change in await forwarding.ApplyMasqueradeAsync(iface, sources, ct).ConfigureAwait(false))
                log.Info(change);
            _forwardingActive = forwards;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            problems.Add($"forwarding/NAT: {e.Message}");
        }
        return problems;
    }

    /// <summary>
    /// After the session was revoked: gives the host its own routing back, since no peer will answer
    /// through this tunnel any more. Turns off the full tunnel (rules, table 51830, fwmark), removes the
    /// agent's routes into the interface and its route to the server, and its masquerade rules. The
    /// interface, its peers and addresses, the packet filter (it only narrows what arrives on the
    /// interface) and ip_forward stay.
    /// </summary>
    /// <returns>What failed; empty when everything was released.</returns>
    public async Task<IReadOnlyList<string>> ReleaseHostAsync(CancellationToken ct)
    {
        var failures = new List<string>();
        async Task Try(string what, Func<Task> action)
        {
            try
            {
                await action().ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                failures.Add($"{what}: {e.Message}");
            }
        }

        InterfaceState? actual = null;
        await Try($"read {iface}", async () => actual = await wg.ReadAsync(iface, ct).ConfigureAwait(false)).ConfigureAwait(false);
        if (actual is not null)
        {
            foreach (var family in (AddressFamily[])[AddressFamily.InterNetwork, AddressFamily.InterNetworkV6])
                await Try($"full tunnel off ({family})", () => wg.SetFullTunnelAsync(iface, family, false, ct)).ConfigureAwait(false);
            foreach (var route in actual.Routes.Distinct())
                await Try($"remove route {route.ToString()}", () => wg.RemoveRouteAsync(iface, route, ct)).ConfigureAwait(false);
            foreach (var server in actual.ServerRoutes.Distinct())
                await Try($"remove the route to the server {server.ToString()}", () => wg.RemoveServerRouteAsync(iface, server, ct)).ConfigureAwait(false);
        }
        await Try("remove masquerade rules", async () =>
        {
            foreach (var change in await forwarding.ApplyMasqueradeAsync(iface, [], ct).ConfigureAwait(false)) log.Info(change);
        }).ConfigureAwait(false);
        _lastApplied = null;
        return failures;
    }

    private void Report(IReadOnlyList<string> problems, LogLevel level)
    {
        var now = problems.ToHashSet();
        foreach (var p in problems.Where(p => !_lastProblems.Contains(p))) log.Write(level, $"{iface}: {p}");
        foreach (var p in _lastProblems.Where(p => !now.Contains(p))) log.Info($"{iface}: resolved: {p}");
        _lastProblems = now;
    }
}
