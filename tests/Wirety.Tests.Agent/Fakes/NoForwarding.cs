using System.Net;
using Wirety.Agent.Forwarding;

namespace Wirety.Tests.Agent.Fakes;

/// <summary>Records what a jump peer would ask of the host.</summary>
public sealed class RecordingForwarding : IForwarding
{
    public bool IpForwardingEnabled { get; private set; }
    public IReadOnlyList<IPNetwork> Masqueraded { get; private set; } = [];

    public Task EnableIpForwardingAsync(CancellationToken ct)
    {
        IpForwardingEnabled = true;
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<string>> ApplyMasqueradeAsync(string iface, IReadOnlyList<IPNetwork> sources, CancellationToken ct)
    {
        Masqueraded = [.. sources];
        return Task.FromResult<IReadOnlyList<string>>([]);
    }
}
