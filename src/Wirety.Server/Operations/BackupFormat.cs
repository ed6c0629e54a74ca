using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Wirety.Server.Operations;

/// <summary>
/// The backup file: gzip over UTF-8 lines.
/// <code>
/// {"format":"wirety-backup","formatVersion":1}                 header
/// #table {"name":"mt_streams","columns":["id",...]}             one section per table,
/// ...rows in PostgreSQL COPY text format, one per line...       rows in key order
/// \.                                                            end of section
/// #manifest {"formatVersion":1,...,"sha256":"..."}              last line
/// </code>
/// The manifest repeats the format version and carries the row count of every table, the versions of
/// Wirety, Marten and PostgreSQL that wrote it, the highest event sequence and the SHA-256 of every
/// byte (uncompressed) before the manifest line. A COPY text row never equals <c>\.</c> (a backslash in
/// data is written <c>\\</c>) and never contains a raw newline, so rows cannot be mistaken for markers.
/// <para>
/// A backup written with an HMAC key (<see cref="BackupKey"/>) also carries <c>hmacSha256</c> in its
/// manifest: HMAC-SHA256 under that key of every byte before the manifest line followed by the manifest's
/// own JSON without the <c>hmacSha256</c> member, so neither the rows nor the manifest (counts, highest
/// sequence) can be edited without the key. Readers that do not know the member ignore it.
/// </para>
/// </summary>
public static class BackupFormat
{
    public const string Format = "wirety-backup";
    public const int Version = 1;
    public const string TablePrefix = "#table ", ManifestPrefix = "#manifest ", EndOfSection = "\\.";
}

public sealed record BackupHeader(string Format, int FormatVersion);

public sealed record BackupSection(string Name, IReadOnlyList<string> Columns);

public sealed record BackupTableCount(string Name, long Rows);

public sealed record BackupManifest(
    int FormatVersion, DateTimeOffset CreatedAt, string WiretyVersion, string MartenVersion, string PostgresVersion,
    string Schema, long HighestSequence, IReadOnlyList<BackupTableCount> Tables, string Sha256, string? HmacSha256 = null);

/// <summary>The JSON of the header, section and manifest lines, generated at build time.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(BackupHeader))]
[JsonSerializable(typeof(BackupSection))]
[JsonSerializable(typeof(BackupManifest))]
internal sealed partial class BackupJson : JsonSerializerContext;

/// <summary>A backup file that must not be restored; the message says why, for the operator.</summary>
public sealed class BackupRefusedException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Writes a backup file: lines are hashed as written, the manifest goes last.</summary>
public sealed class BackupWriter : IAsyncDisposable
{
    private readonly Stream _file;
    private readonly GZipStream _gzip;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly IncrementalHash? _mac;
    private byte[] _buffer = new byte[64 * 1024];

    public BackupWriter(Stream file, BackupKey? key = null)
    {
        _file = file;
        _gzip = new GZipStream(file, CompressionLevel.Fastest, leaveOpen: true);
        _mac = key?.CreateMac();
    }

    public ValueTask WriteHeaderAsync(CancellationToken ct) =>
        WriteLineAsync(JsonSerializer.Serialize(new BackupHeader(BackupFormat.Format, BackupFormat.Version), BackupJson.Default.BackupHeader), ct);

    public ValueTask BeginSectionAsync(BackupSection section, CancellationToken ct) =>
        WriteLineAsync(BackupFormat.TablePrefix + JsonSerializer.Serialize(section, BackupJson.Default.BackupSection), ct);

    public ValueTask EndSectionAsync(CancellationToken ct) => WriteLineAsync(BackupFormat.EndOfSection, ct);

    public ValueTask WriteLineAsync(string line, CancellationToken ct)
    {
        var needed = Encoding.UTF8.GetMaxByteCount(line.Length) + 1;
        if (_buffer.Length < needed) _buffer = new byte[Math.Max(needed, _buffer.Length * 2)];
        var length = Encoding.UTF8.GetBytes(line, _buffer);
        _buffer[length++] = (byte)'\n';
        _hash.AppendData(_buffer, 0, length);
        _mac?.AppendData(_buffer, 0, length);
        return _gzip.WriteAsync(_buffer.AsMemory(0, length), ct);
    }

    /// <summary>Completes the file with its manifest (the checksum covers everything written so far).</summary>
    public async Task FinishAsync(Func<string, BackupManifest> manifest, CancellationToken ct)
    {
        var sha = Convert.ToHexStringLower(_hash.GetHashAndReset());
        var complete = manifest(sha) with { HmacSha256 = null };
        if (_mac is not null)
        {
            _mac.AppendData(BackupKey.SignedManifestBytes(complete));
            complete = complete with { HmacSha256 = Convert.ToHexStringLower(_mac.GetHashAndReset()) };
        }
        var line = BackupFormat.ManifestPrefix + JsonSerializer.Serialize(complete, BackupJson.Default.BackupManifest) + "\n";
        await _gzip.WriteAsync(Encoding.UTF8.GetBytes(line), ct);
        await _gzip.FlushAsync(ct);
        await _gzip.DisposeAsync();
        await _file.FlushAsync(ct);
    }

    public async ValueTask DisposeAsync()
    {
        await _gzip.DisposeAsync();
        _hash.Dispose();
        _mac?.Dispose();
    }
}

/// <summary>
/// Reads a backup file start to end and checks it as it goes: header and format version, section
/// structure, row counts and checksum against the manifest, nothing after the manifest. Any fault is a
/// <see cref="BackupRefusedException"/>; callers that act on rows (restore) must only commit once
/// <see cref="ReadAsync"/> has returned.
/// </summary>
public static class BackupReader
{
    public interface IVisitor
    {
        Task BeginSectionAsync(BackupSection section, CancellationToken ct);
        ValueTask RowAsync(string row, CancellationToken ct);
        Task EndSectionAsync(BackupSection section, long rows, CancellationToken ct);
    }

    /// <summary>Checks the whole file without touching anything; with a key, also that the file is signed with it.</summary>
    public static Task<BackupManifest> ValidateAsync(string path, CancellationToken ct, BackupKey? key = null) => ReadAsync(path, null, ct, key);

    public static async Task<BackupManifest> ReadAsync(string path, IVisitor? visitor, CancellationToken ct, BackupKey? key = null)
    {
        if (!File.Exists(path)) throw new BackupRefusedException($"{path}: no such file.");
        try
        {
            await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
            await using var gzip = new GZipStream(file, CompressionMode.Decompress);
            using var reader = new StreamReader(gzip, new UTF8Encoding(false, throwOnInvalidBytes: true), false, 1 << 16);
            return await ReadCoreAsync(path, reader, visitor, key, ct);
        }
        catch (InvalidDataException e)
        {
            throw new BackupRefusedException($"{path} is not a complete Wirety backup: the compressed data is corrupt or truncated ({e.Message}).", e);
        }
        catch (DecoderFallbackException e)
        {
            throw new BackupRefusedException($"{path} is corrupt: it holds bytes that are not UTF-8 text.", e);
        }
    }

    private static async Task<BackupManifest> ReadCoreAsync(string path, StreamReader reader, IVisitor? visitor, BackupKey? key, CancellationToken ct)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var mac = key?.CreateMac();
        var buffer = new byte[64 * 1024];
        void Hash(string line)
        {
            var needed = Encoding.UTF8.GetMaxByteCount(line.Length) + 1;
            if (buffer.Length < needed) buffer = new byte[Math.Max(needed, buffer.Length * 2)];
            var length = Encoding.UTF8.GetBytes(line, buffer);
            buffer[length++] = (byte)'\n';
            hash.AppendData(buffer, 0, length);
            mac?.AppendData(buffer, 0, length);
        }

        var first = await reader.ReadLineAsync(ct)
                    ?? throw new BackupRefusedException($"{path} is empty: not a Wirety backup.");
        var header = Parse(first, BackupJson.Default.BackupHeader, path, "header");
        if (header?.Format != BackupFormat.Format) throw new BackupRefusedException($"{path} is not a Wirety backup (no Wirety backup header).");
        if (header.FormatVersion != BackupFormat.Version)
            throw new BackupRefusedException(
                $"{path} is a Wirety backup of format version {header.FormatVersion}; this server reads format version {BackupFormat.Version} only.");
        Hash(first);

        var counted = new List<BackupTableCount>();
        BackupSection? section = null;
        long rows = 0;
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (section is not null)
            {
                Hash(line);
                if (line == BackupFormat.EndOfSection)
                {
                    if (visitor is not null) await visitor.EndSectionAsync(section, rows, ct);
                    counted.Add(new BackupTableCount(section.Name, rows));
                    section = null;
                }
                else
                {
                    rows++;
                    if (visitor is not null) await visitor.RowAsync(line, ct);
                }
                continue;
            }

            if (line.StartsWith(BackupFormat.TablePrefix, StringComparison.Ordinal))
            {
                Hash(line);
                section = Parse(line[BackupFormat.TablePrefix.Length..], BackupJson.Default.BackupSection, path, "table header");
                if (section is null || string.IsNullOrEmpty(section.Name) || section.Columns is not { Count: > 0 })
                    throw new BackupRefusedException($"{path} is corrupt: a table header names no table or columns.");
                if (counted.Any(c => c.Name == section.Name))
                    throw new BackupRefusedException($"{path} is corrupt: table {section.Name} appears twice.");
                rows = 0;
                if (visitor is not null) await visitor.BeginSectionAsync(section, ct);
                continue;
            }

            if (line.StartsWith(BackupFormat.ManifestPrefix, StringComparison.Ordinal))
            {
                var manifest = Parse(line[BackupFormat.ManifestPrefix.Length..], BackupJson.Default.BackupManifest, path, "manifest")
                               ?? throw new BackupRefusedException($"{path} is corrupt: the manifest is empty.");
                if (await reader.ReadLineAsync(ct) is not null)
                    throw new BackupRefusedException($"{path} is corrupt: there is data after the manifest.");
                var actual = Convert.ToHexStringLower(hash.GetHashAndReset());
                if (!string.Equals(actual, manifest.Sha256, StringComparison.OrdinalIgnoreCase))
                    throw new BackupRefusedException($"{path} is corrupt: its SHA-256 checksum does not match the manifest (file {actual}, manifest {manifest.Sha256}).");
                if (mac is not null)
                {
                    // The checksum matching proves nothing against someone who edits the file and recomputes it; the key does.
                    if (manifest.HmacSha256 is not { Length: > 0 } claimed)
                        throw new BackupRefusedException($"{path} is not signed, but an HMAC key was given: refusing an unsigned backup (restore without the key to accept it).");
                    mac.AppendData(BackupKey.SignedManifestBytes(manifest with { HmacSha256 = null }));
                    var expectedMac = mac.GetHashAndReset();
                    byte[] claimedMac;
                    try { claimedMac = Convert.FromHexString(claimed); }
                    catch (FormatException) { claimedMac = []; }
                    if (!CryptographicOperations.FixedTimeEquals(expectedMac, claimedMac))
                        throw new BackupRefusedException($"{path} fails its HMAC check: it was edited after it was written, or signed with a different key.");
                }
                if (manifest.FormatVersion != BackupFormat.Version)
                    throw new BackupRefusedException($"{path}: the manifest says format version {manifest.FormatVersion}; this server reads format version {BackupFormat.Version} only.");
                var expected = manifest.Tables ?? [];
                if (expected.Count != counted.Count || expected.Zip(counted).Any(p => p.First != p.Second))
                    throw new BackupRefusedException(
                        $"{path} is corrupt: the tables it holds ({Describe(counted)}) differ from its manifest ({Describe(expected)}).");
                return manifest;
            }

            throw new BackupRefusedException($"{path} is corrupt: unexpected line outside a table section.");
        }

        throw new BackupRefusedException(section is not null
            ? $"{path} is truncated: it ends inside table {section.Name}, and has no manifest."
            : $"{path} is truncated: it has no manifest.");
    }

    private static string Describe(IEnumerable<BackupTableCount> tables) => string.Join(", ", tables.Select(t => $"{t.Name}: {t.Rows} rows"));

    private static T? Parse<T>(string json, JsonTypeInfo<T> type, string path, string what)
    {
        try { return JsonSerializer.Deserialize(json, type); }
        catch (JsonException e) { throw new BackupRefusedException($"{path} is corrupt or not a Wirety backup: its {what} is not valid.", e); }
    }
}
