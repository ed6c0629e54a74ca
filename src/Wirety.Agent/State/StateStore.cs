using System.Text.Json;
using System.Text.Json.Serialization;
using Wirety.Agent.Identity;
using Wirety.Events.Agent;

namespace Wirety.Agent.State;

/// <summary>
/// The agent's state directory (default /var/lib/wirety, mode 0700):
/// <c>identity.json</c> — who this agent is, with its private key and session token (0600);
/// <c>config.json</c> — the last-known-good config (also rewritten after each applied delta), applied at start when the server is unreachable;
/// <c>state.json</c> — small facts for <c>status</c> (last config version, last heartbeat).
/// Every file is replaced atomically.
/// </summary>
public sealed class StateStore(string directory)
{
    public const string DefaultDirectory = "/var/lib/wirety";

    public string Directory { get; } = Path.GetFullPath(directory);
    public string IdentityPath => Path.Combine(Directory, "identity.json");
    public string ConfigPath => Path.Combine(Directory, "config.json");
    public string StatePath => Path.Combine(Directory, "state.json");

    /// <summary>Creates the directory (0700) if needed and proves it is writable, before anything is worth losing.</summary>
    public void EnsureWritable()
    {
        System.IO.Directory.CreateDirectory(Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        AtomicFile.Write(Path.Combine(Directory, ".write-test"), "ok"u8);
        File.Delete(Path.Combine(Directory, ".write-test"));
    }

    public bool HasIdentity => File.Exists(IdentityPath);

    /// <summary>
    /// Holds <c>run.lock</c> exclusively (flock) for as long as the returned handle lives, so two
    /// <c>run</c> processes never fight over one interface and state directory.
    /// </summary>
    /// <exception cref="StateException">Another process holds it.</exception>
    public IDisposable LockForRun()
    {
        EnsureDirectory();
        var path = Path.Combine(Directory, "run.lock");
        try
        {
            return new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.OpenOrCreate,
                Access = FileAccess.ReadWrite,
                Share = FileShare.None,
                UnixCreateMode = AtomicFile.OwnerOnly,
            });
        }
        catch (IOException e)
        {
            throw new StateException($"another `wirety-agent run` is using {Directory} ({e.Message})");
        }
    }

    public void SaveIdentity(AgentIdentity identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        EnsureDirectory();
        var file = new IdentityFile(
            identity.Server.ToString(), identity.PeerId, identity.NetworkId,
            identity.Keys.PublicKey, identity.Keys.PrivateKey.Reveal(), identity.SessionToken.Reveal(),
            identity.Hostname, identity.EnrolledAt, identity.Kind, identity.SigningKey);
        AtomicFile.Write(IdentityPath, JsonSerializer.SerializeToUtf8Bytes(file, StateFileJson.Default.IdentityFile));
    }

    /// <exception cref="StateException">Missing or unreadable; the message says what to do.</exception>
    public AgentIdentity LoadIdentity()
    {
        if (!File.Exists(IdentityPath))
            throw new StateException($"not enrolled: {IdentityPath} does not exist (run `wirety-agent enroll --server URL --token TOKEN` first)");
        IdentityFile? file;
        try
        {
            file = JsonSerializer.Deserialize(File.ReadAllBytes(IdentityPath), StateFileJson.Default.IdentityFile);
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            throw new StateException($"cannot read {IdentityPath}: {e.Message}");
        }
        if (file is null || string.IsNullOrEmpty(file.PrivateKey) || string.IsNullOrEmpty(file.SessionToken)
            || string.IsNullOrEmpty(file.PublicKey) || !Uri.TryCreate(file.Server, UriKind.Absolute, out var server))
            throw new StateException($"{IdentityPath} is incomplete; re-enroll");
        var privateKey = new Secret(file.PrivateKey);
        string derived;
        try
        {
            derived = KeyPair.PublicKeyOf(privateKey);
        }
        catch (FormatException e)
        {
            throw new StateException($"{IdentityPath}: {e.Message}");
        }
        if (derived != file.PublicKey)
            throw new StateException($"{IdentityPath}: the private key does not match the public key; re-enroll");
        return new AgentIdentity(server, file.PeerId, file.NetworkId, new KeyPair(privateKey, file.PublicKey),
            new Secret(file.SessionToken), file.Hostname, file.EnrolledAt, file.Kind, file.SigningKey);
    }

    /// <summary>Public facts from identity.json for <c>status</c>; null when missing or unreadable.</summary>
    public PublicIdentity? PeekIdentity()
    {
        try
        {
            var file = JsonSerializer.Deserialize(File.ReadAllBytes(IdentityPath), StateFileJson.Default.IdentityFile);
            return file is null ? null : new PublicIdentity(file.Server, file.PeerId, file.NetworkId, file.PublicKey, file.Hostname, file.EnrolledAt,
                Deltas.EnvelopeVerifier.IsWellFormedKey(file.SigningKey));
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public void SaveConfig(SavedConfig saved)
    {
        EnsureDirectory();
        AtomicFile.Write(ConfigPath, JsonSerializer.SerializeToUtf8Bytes(saved, StateFileJson.Default.SavedConfig));
    }

    /// <summary>The last-known-good config, or null (none yet, or unreadable: then the server's is awaited).</summary>
    public SavedConfig? LoadConfig()
    {
        try
        {
            return File.Exists(ConfigPath) ? JsonSerializer.Deserialize(File.ReadAllBytes(ConfigPath), StateFileJson.Default.SavedConfig) : null;
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public void SaveState(AgentStateFile state)
    {
        EnsureDirectory();
        AtomicFile.Write(StatePath, JsonSerializer.SerializeToUtf8Bytes(state, StateFileJson.Default.AgentStateFile));
    }

    public AgentStateFile LoadState()
    {
        try
        {
            return (File.Exists(StatePath) ? JsonSerializer.Deserialize(File.ReadAllBytes(StatePath), StateFileJson.Default.AgentStateFile) : null)
                   ?? new AgentStateFile(null, null, null, null, null);
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            return new AgentStateFile(null, null, null, null, null);
        }
    }

    private void EnsureDirectory() =>
        System.IO.Directory.CreateDirectory(Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

    internal sealed record IdentityFile(
        string Server, Guid PeerId, Guid NetworkId, string PublicKey, string PrivateKey, string SessionToken,
        string? Hostname, DateTimeOffset EnrolledAt, string? Kind = null, string? SigningKey = null);
}

/// <param name="SigningKeyPinned">Whether a well-formed server signing key is pinned (the agent asks for deltas).</param>
public sealed record PublicIdentity(string Server, Guid PeerId, Guid NetworkId, string PublicKey, string? Hostname, DateTimeOffset EnrolledAt,
    bool SigningKeyPinned = false);

/// <summary>The last-known-good config and the ETag it came with (null when it came with the enrollment).</summary>
public sealed record SavedConfig(AgentConfig Config, string? ETag, DateTimeOffset SavedAt);

/// <summary>state.json: what <c>status</c> reports besides the live interface.</summary>
public sealed record AgentStateFile(
    string? LastConfigVersion,
    DateTimeOffset? LastConfigAppliedAt,
    DateTimeOffset? LastHeartbeatAt,
    DateTimeOffset? LastServerContactAt,
    string? LastError);

public sealed class StateException(string message) : Exception(message);

/// <summary>The state directory's files (camelCase, indented for a reader with `cat`), generated at build time.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(StateStore.IdentityFile))]
[JsonSerializable(typeof(SavedConfig))]
[JsonSerializable(typeof(AgentStateFile))]
internal sealed partial class StateFileJson : JsonSerializerContext;
