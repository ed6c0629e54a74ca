using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Wirety.Server.Limits;

/// <summary>
/// The admin API refuses JSON members it does not know (a typo such as <c>fullEncapsulaton</c> would
/// otherwise answer 200 and change nothing): 400 naming the member. The agent protocol
/// (<c>Wirety.Events.Agent</c>) stays tolerant so an older server accepts a newer agent's extra fields.
/// </summary>
public static class StrictJson
{
    public const string TolerantNamespace = "Wirety.Events.Agent";

    public static void Apply(JsonSerializerOptions options) =>
        options.TypeInfoResolver = (options.TypeInfoResolver ?? new DefaultJsonTypeInfoResolver()).WithAddedModifier(Disallow);

    private static void Disallow(JsonTypeInfo info)
    {
        if (info.Kind != JsonTypeInfoKind.Object || info.UnmappedMemberHandling is not null) return;
        if (info.Type.Namespace?.StartsWith(TolerantNamespace, StringComparison.Ordinal) == true) return;
        if (info.Properties.Any(p => p.IsExtensionData)) return;
        info.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
    }
}
