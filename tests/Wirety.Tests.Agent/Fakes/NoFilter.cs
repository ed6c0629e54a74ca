using Wirety.Agent.Filtering;

namespace Wirety.Tests.Agent.Fakes;

/// <summary>Records the packet filter a pass asks the host for.</summary>
public sealed class RecordingFilter : IPacketFilter
{
    /// <summary>The ruleset last applied; null after a removal (or before any pass).</summary>
    public FilterRuleset? Applied { get; private set; }
    public string? Interface { get; private set; }
    public int Calls { get; private set; }
    /// <summary>When set, every call fails with this message (the old filter would stay in force).</summary>
    public string? Failure { get; set; }

    public Task<IReadOnlyList<string>> ApplyAsync(string iface, FilterRuleset? ruleset, CancellationToken ct)
    {
        Calls++;
        if (Failure is not null) throw new Wirety.Agent.WireGuard.WireGuardCommandException(Failure);
        Interface = iface;
        Applied = ruleset;
        return Task.FromResult<IReadOnlyList<string>>([]);
    }
}
