using System.Security.Cryptography;
using System.Text;

namespace Wirety.Projections.Configs;

public static class ConfigETag
{
    /// <summary>A strong HTTP entity tag (quoted) derived from the rendered config only.</summary>
    public static string Compute(string text) =>
        $"\"{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)), 0, 16)}\"";
}
