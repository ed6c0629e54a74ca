using System.Net;
using Wirety.Agent.Forwarding;
using Wirety.Events.Addressing;

namespace Wirety.Tests.Agent.Fakes;

/// <summary>Records what a jump peer would ask of the host.</summary>
public sealed class RecordingForwarding : IForwarding
{
    public bool IpForwardingEnabled { get; private set; }
    public IReadOnlyList<IpPrefix> Masqueraded { get; private set; } = [];

    public Task EnableIpForwardingAsync(CancellationToken ct)
    {
        IpForwardingEnabled = true;
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<string>> ApplyMasqueradeAsync(string iface, IReadOnlyList<IpPrefix> sources, CancellationToken ct)
    {
        Masqueraded = [.. sources];
        return Task.FromResult<IReadOnlyList<string>>([]);
    }
}
