using System.Security.Cryptography;
using System.Text;

namespace Wirety.Server.Auth;

/// <summary>
/// Creation and hashing of bearer secrets (API tokens, enrollment tokens). Only hashes are stored;
/// the value exists in exactly one response.
/// </summary>
public static class TokenSecrets
{
    public const string ApiTokenPrefix = "wirety_";
    public const string EnrollmentTokenPrefix = "wirety_enroll_";
    public const string SessionTokenPrefix = "wirety_session_";
    /// <summary>Minimum characters after the prefix for an operator-supplied token.</summary>
    public const int MinimumSecretLength = 32;

    /// <summary>32 random bytes, base64url: 43 characters after the prefix.</summary>
    public static string New(string prefix) =>
        prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static string Hash(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)));

    public static bool HashesEqual(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(a), Encoding.ASCII.GetBytes(b));

    public static bool IsWellFormedApiToken(string value) =>
        value.StartsWith(ApiTokenPrefix, StringComparison.Ordinal)
        && value.Length >= ApiTokenPrefix.Length + MinimumSecretLength
        && value.All(c => c is > ' ' and < (char)127);
}
