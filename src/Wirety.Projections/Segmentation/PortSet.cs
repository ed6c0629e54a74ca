using System.Collections.Immutable;
using Wirety.Events.Segmentation;

namespace Wirety.Projections.Segmentation;

/// <summary>
/// The protocols and ports one peer may open towards another: <see cref="Everything"/>, <see cref="None"/>,
/// or a set of <see cref="PortRange"/>s kept merged and sorted, so equal sets have equal texts.
/// </summary>
public sealed class PortSet : IEquatable<PortSet>
{
    public static readonly PortSet None = new(false, []);
    /// <summary>Every protocol (not only tcp, udp and icmp) and port.</summary>
    public static readonly PortSet Everything = new(true, []);

    private static readonly ImmutableArray<PortRange> Whole =
        [PortRange.AllOf(PortProtocol.Tcp), PortRange.AllOf(PortProtocol.Udp), PortRange.AllOf(PortProtocol.Icmp)];

    private PortSet(bool everything, ImmutableArray<PortRange> ranges)
    {
        IsEverything = everything;
        Ranges = ranges;
        Key = everything ? "*" : string.Join(',', ranges);
    }

    public bool IsEverything { get; }
    public bool IsEmpty => !IsEverything && Ranges.IsEmpty;
    /// <summary>Merged, sorted ranges; empty for <see cref="Everything"/>.</summary>
    public ImmutableArray<PortRange> Ranges { get; }
    /// <summary>A compact text that is equal exactly for equal sets.</summary>
    public string Key { get; }

    /// <summary>A policy's ports: canonical texts, none meaning everything. Unreadable texts are skipped (commands validate them).</summary>
    public static PortSet OfPolicy(IReadOnlyCollection<string> ports)
    {
        if (ports.Count == 0) return Everything;
        var ranges = new List<PortRange>(ports.Count);
        foreach (var text in ports)
            if (PortRange.TryParse(text, out var range, out _)) ranges.Add(range);
        return Of(ranges);
    }

    public static PortSet Of(IEnumerable<PortRange> ranges)
    {
        var sorted = ranges.Order().ToList();
        var merged = new List<PortRange>(sorted.Count);
        foreach (var range in sorted)
        {
            if (merged.Count > 0 && merged[^1] is var last && last.Protocol == range.Protocol && range.From <= last.To + 1)
                merged[^1] = last with { To = Math.Max(last.To, range.To) };
            else
                merged.Add(range);
        }
        return merged.Count == 0 ? None : new PortSet(false, [.. merged]);
    }

    public PortSet Union(PortSet other)
    {
        if (IsEverything || other.IsEmpty) return this;
        if (other.IsEverything || IsEmpty) return other;
        return Of(Ranges.Concat(other.Ranges));
    }

    /// <summary>
    /// What this set allows that <paramref name="other"/> does not, for what-if diffs. <see cref="Everything"/>
    /// counts as all of tcp, udp and icmp here: a diff does not list the other protocols.
    /// </summary>
    public PortSet Except(PortSet other)
    {
        if (other.IsEverything || IsEmpty) return None;
        if (other.IsEmpty) return this;
        var mine = IsEverything ? Whole : Ranges;
        var left = new List<PortRange>();
        foreach (var range in mine)
        {
            var pieces = new List<PortRange> { range };
            foreach (var cut in other.Ranges.Where(r => r.Protocol == range.Protocol))
                pieces = pieces.SelectMany(p => Subtract(p, cut)).ToList();
            left.AddRange(pieces);
        }
        var result = Of(left);
        return IsEverything && result.Ranges.SequenceEqual(Whole) ? Everything : result;
    }

    private static IEnumerable<PortRange> Subtract(PortRange range, PortRange cut)
    {
        if (cut.To < range.From || cut.From > range.To) { yield return range; yield break; }
        if (range.Protocol == PortProtocol.Icmp) yield break;
        if (cut.From > range.From) yield return range with { To = cut.From - 1 };
        if (cut.To < range.To) yield return range with { From = cut.To + 1 };
    }

    /// <summary>Whether a packet of <paramref name="protocol"/> (null: any other IP protocol) to <paramref name="port"/> is in the set.</summary>
    public bool Allows(PortProtocol? protocol, int port) =>
        IsEverything || (protocol is { } p && Ranges.Any(r => r.Protocol == p && (p == PortProtocol.Icmp || (port >= r.From && port <= r.To))));

    /// <summary>Canonical texts, as policies and agent filters carry them; empty for <see cref="Everything"/>.</summary>
    public IReadOnlyList<string> ToTexts() => IsEverything ? [] : Ranges.Select(r => r.ToString()).ToArray();

    public bool Equals(PortSet? other) => other is not null && Key == other.Key;
    public override bool Equals(object? obj) => Equals(obj as PortSet);
    public override int GetHashCode() => Key.GetHashCode(StringComparison.Ordinal);
    public override string ToString() => IsEverything ? "everything" : IsEmpty ? "nothing" : Key;
}
