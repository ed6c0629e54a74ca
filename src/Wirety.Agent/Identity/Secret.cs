namespace Wirety.Agent.Identity;

/// <summary>
/// A secret string (the WireGuard private key, the session token). <see cref="ToString"/> is
/// redacted and the type has no public properties, so it cannot end up in a log line, an
/// exception message, a record's printed form or a JSON body by accident; <see cref="Reveal"/>
/// is called only where the secret is actually used.
/// </summary>
public sealed class Secret : IEquatable<Secret>
{
    private readonly string _value;

    public Secret(string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(value);
        _value = value;
    }

    public string Reveal() => _value;

    public override string ToString() => "[redacted]";

    public bool Equals(Secret? other) =>
        other is not null && System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.UTF8.GetBytes(_value), System.Text.Encoding.UTF8.GetBytes(other._value));

    public override bool Equals(object? obj) => Equals(obj as Secret);

    public override int GetHashCode() => 0; // never hash the secret's content
}
