using System.Security.Cryptography;
using System.Text;

namespace Wirety.Projections.Configs;

public static class ConfigETag
{
    /// <summary>A strong HTTP entity tag (quoted) derived from the rendered config only.</summary>
    public static string Compute(string text) => Compute(Encoding.UTF8.GetBytes(text));

    /// <summary>The same tag from the UTF-8 bytes of the rendered config.</summary>
    public static string Compute(ReadOnlySpan<byte> utf8)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(utf8, hash);
        return $"\"{Convert.ToHexStringLower(hash[..16])}\"";
    }
}
