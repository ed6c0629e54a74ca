using Wirety.Agent.Identity;
using Wirety.Agent.Logging;
using Wirety.Agent.WireGuard;

namespace Wirety.Agent.Reconcile;

/// <summary>The outcome of applying a plan: failed steps, described without secrets.</summary>
public sealed record ApplyResult(int Applied, IReadOnlyList<string> Failures)
{
    public bool Succeeded => Failures.Count == 0;
}

/// <summary>
/// Applies a plan step by step. A failing step is logged and the rest still run (one unroutable
/// prefix must not keep the other peers from being configured); the next pass plans it again.
/// Only a failed interface creation stops the plan, since nothing else can work without it.
/// </summary>
public static class PlanExecutor
{
    public static async Task<ApplyResult> ApplyAsync(
        IWireGuard wg, string iface, Plan plan, Secret privateKey, AgentLog log, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(wg);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(log);
        var failures = new List<string>();
        var applied = 0;
        foreach (var step in plan.Steps)
        {
            ct.ThrowIfCancellationRequested();
            try
            {
                await (step switch
                {
                    CreateInterface => wg.CreateInterfaceAsync(iface, ct),
                    SetPrivateKey => wg.SetPrivateKeyAsync(iface, privateKey, ct),
                    SetListenPort s => wg.SetListenPortAsync(iface, s.Port, ct),
                    SetMtu s => wg.SetMtuAsync(iface, s.Mtu, ct),
                    AddAddress s => wg.AddAddressAsync(iface, s.Address, ct),
                    RemoveAddress s => wg.RemoveAddressAsync(iface, s.Address, ct),
                    BringUp => wg.SetUpAsync(iface, ct),
                    RemovePeer s => wg.RemovePeerAsync(iface, s.PublicKey, ct),
                    UpdatePeer s => wg.SetPeerAsync(iface, s.Settings, ct),
                    AddPeer s => wg.SetPeerAsync(iface, s.Settings, ct),
                    RemoveRoute s => wg.RemoveRouteAsync(iface, s.Prefix, ct),
                    AddRoute s => wg.AddRouteAsync(iface, s.Prefix, ct),
                    SetFullTunnel s => wg.SetFullTunnelAsync(iface, s.Family, s.Enabled, ct),
                    AddServerRoute s => wg.AddServerRouteAsync(iface, s.Server, ct),
                    RemoveServerRoute s => wg.RemoveServerRouteAsync(iface, s.Server, ct),
                    _ => throw new NotSupportedException($"unknown plan step {step.GetType().Name}"),
                }).ConfigureAwait(false);
                applied++;
                log.Debug($"{iface}: {step.Describe()}");
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Reported by the caller, which knows whether it already said so on the last pass.
                failures.Add($"{step.Describe()}: {e.Message}");
                if (step is CreateInterface) break;
            }
        }
        return new ApplyResult(applied, failures);
    }
}
