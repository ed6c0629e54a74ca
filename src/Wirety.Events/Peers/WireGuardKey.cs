namespace Wirety.Events.Peers;

/// <summary>
/// A WireGuard (X25519) key as <c>wg</c> prints it: base64 of exactly 32 bytes, 44 characters. On the
/// wire it is that text. Parsing keeps the canonical encoding of the bytes, not the text as given: base64 has
/// more than one text for the same 32 bytes (the last character carries two bits the decoder ignores), and
/// keys are compared as text (a key claimed by one peer must not pass as "new" spelled differently).
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
        key = new WireGuardKey(Convert.ToBase64String(buffer[..Length]));
        return true;
    }

    /// <summary>The text form of a raw 32-byte key.</summary>
    public static WireGuardKey From(ReadOnlySpan<byte> raw)
    {
        if (raw.Length != Length) throw new ArgumentException($"A WireGuard key is {Length} bytes, not {raw.Length}.", nameof(raw));
        return new WireGuardKey(Convert.ToBase64String(raw));
    }

    /// <summary>The canonical text of a well-formed key (see the type); null when it is not one.</summary>
    public static string? Canonical(string? text) => TryParse(text, out var key) ? key.ToString() : null;

    public override string ToString() => _text ?? "";
}
