namespace Wirety.Events.Peers;

/// <summary>
/// A WireGuard (X25519) key as <c>wg</c> prints it: base64 of exactly 32 bytes, 44 characters. On the
/// wire it stays that text; public keys are compared as text, so it is kept as given.
/// </summary>
public readonly record struct WireGuardKey
{
    public const int Length = 32, TextLength = 44;

    private readonly string? _text;

    private WireGuardKey(string text) => _text = text;

    public static bool IsWellFormed(string? text) => TryParse(text, out _);

    public static bool TryParse(string? text, out WireGuardKey key)
    {
        key = default;
        if (text is not { Length: TextLength }) return false;
        Span<byte> buffer = stackalloc byte[Length + 1];
        if (!Convert.TryFromBase64String(text, buffer, out var written) || written != Length) return false;
        key = new WireGuardKey(text);
        return true;
    }

    /// <summary>The text form of a raw 32-byte key.</summary>
    public static WireGuardKey From(ReadOnlySpan<byte> raw)
    {
        if (raw.Length != Length) throw new ArgumentException($"A WireGuard key is {Length} bytes, not {raw.Length}.", nameof(raw));
        return new WireGuardKey(Convert.ToBase64String(raw));
    }

    public override string ToString() => _text ?? "";
}
