using Microsoft.Extensions.Configuration;
using System.IO.Compression;
using System.Net;
using System.Text;
using System.Net.Http.Json;
using Wirety.Tests.Operations.Harness;

namespace Wirety.Tests.Operations;

[Collection(OperationsCollection.Name)]
public sealed class BackupRestoreTests(OperationsApp app) : IAsyncLifetime
{
    public Task InitializeAsync() => app.ResetAsync();
    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task backup_wipe_restore_gives_back_every_event_and_every_read_model_document_and_the_same_configs()
    {
        var scenario = new Scenario(app);
        await scenario.BuildAsync();
        var before = await StoreSnapshot.TakeAsync(app.ConnectionString);
        var configsBefore = await ConfigsAsync(scenario);
        var eventsBefore = await app.Admin.GetStringAsync($"/api/v1/networks/{scenario.Network}/events");
        Assert.NotEmpty(before.Rows("mt_doc_configsource"));
        Assert.NotEmpty(before.Rows("mt_doc_incident"));
        Assert.NotEmpty(before.Rows("mt_doc_peersightings"));
        Assert.NotEmpty(before.Rows("mt_doc_publickeyclaim"));

        var file = app.TempFile("corp.wbk");
        var backup = await app.RunAsync("backup", "--out", file);
        Assert.True(backup.ExitCode == 0, backup.ToString());
        Assert.Contains("mt_events", backup.Out);

        await app.WipeAsync();
        Assert.Equal(0, (await StoreSnapshot.TakeAsync(app.ConnectionString)).DocumentCount);

        // The test's server stays up (its caches are cleared below, as a restart would): the restore is told so.
        var restore = await app.RunAsync("restore", "--in", file, "--ignore-connected-servers");
        Assert.True(restore.ExitCode == 0, restore.ToString());
        app.ClearCaches();

        StoreSnapshot.AssertEqual(before, await StoreSnapshot.TakeAsync(app.ConnectionString));
        var configsAfter = await ConfigsAsync(scenario);
        Assert.Equal(configsBefore, configsAfter);
        Assert.Equal(eventsBefore, await app.Admin.GetStringAsync($"/api/v1/networks/{scenario.Network}/events"));

        // The restored store is live: the next write continues the sequence and the stream versions.
        var response = await app.Admin.PatchAsJsonAsync($"/api/v1/networks/{scenario.Network}", new { mtu = 1380 });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var maxBefore = before.Rows("mt_events").Count;
        Assert.True(await OperationsApp.ScalarAsync(app.ConnectionString, "select count(*) from wirety.mt_events") == maxBefore + 1);
        foreach (var agent in scenario.Agents.Skip(1).Take(1))
            Assert.Equal(HttpStatusCode.NoContent, (await scenario.HeartbeatAsync(agent, 51001, ["198.18.0.11:51001"])).StatusCode);
    }

    [Fact]
    public async Task a_restore_into_a_fresh_database_creates_the_schema_and_equals_the_original()
    {
        var scenario = new Scenario(app);
        await scenario.BuildAsync();
        var before = await StoreSnapshot.TakeAsync(app.ConnectionString);
        var file = app.TempFile("fresh.wbk");
        Assert.Equal(0, (await app.RunAsync("backup", "--out", file)).ExitCode);

        var target = await app.CreateEmptyDatabaseAsync();
        var restore = await app.RunOnAsync(target, "restore", "--in", file);
        Assert.True(restore.ExitCode == 0, restore.ToString());
        StoreSnapshot.AssertEqual(before, await StoreSnapshot.TakeAsync(target));
        Assert.Equal(await OperationsApp.ScalarAsync(app.ConnectionString, "select last_value from wirety.mt_events_sequence"),
            await OperationsApp.ScalarAsync(target, "select last_value from wirety.mt_events_sequence"));

        // Same data, same bytes: a backup of the restored database differs only in its manifest's time.
        var again = app.TempFile("again.wbk");
        Assert.Equal(0, (await app.RunOnAsync(target, "backup", "--out", again)).ExitCode);
        Assert.Equal(Body(file), Body(again));
    }

    [Fact]
    public async Task a_backup_taken_while_heartbeats_keep_arriving_is_a_consistent_snapshot()
    {
        var scenario = new Scenario(app);
        await scenario.BuildAsync();
        using var stop = new CancellationTokenSource();
        var agent = scenario.Agents[1];
        var writer = Task.Run(async () =>
        {
            var sent = 0;
            while (!stop.IsCancellationRequested) { await scenario.HeartbeatAsync(agent, 51001, ["198.18.0.11:51001"]); sent++; }
            return sent;
        });
        await Scenario.EventuallyAsync(async () => await OperationsApp.ScalarAsync(app.ConnectionString,
            "select count(*) from wirety.mt_events where type = 'heartbeat_received'") > 40 ? true : (bool?)null, "heartbeats flow");

        var file = app.TempFile("live.wbk");
        var backup = await app.RunAsync("backup", "--out", file);
        stop.Cancel();
        Assert.True(await writer > 0);
        Assert.True(backup.ExitCode == 0, backup.ToString());

        var target = await app.CreateEmptyDatabaseAsync();
        Assert.Equal(0, (await app.RunOnAsync(target, "restore", "--in", file)).ExitCode);
        // Every stream's version is exactly its last event's: no event without its stream update, or the reverse.
        Assert.Equal(0, await OperationsApp.ScalarAsync(target, """
            select count(*) from wirety.mt_streams s
            where s.version <> (select coalesce(max(e.version), 0) from wirety.mt_events e where e.stream_id = s.id)
            """));
    }

    [Fact]
    public async Task a_truncated_corrupted_tampered_or_wrong_version_file_is_refused_and_changes_nothing()
    {
        var scenario = new Scenario(app);
        await scenario.BuildAsync();
        var file = app.TempFile("good.wbk");
        Assert.Equal(0, (await app.RunAsync("backup", "--out", file)).ExitCode);
        var bytes = await File.ReadAllBytesAsync(file);
        var text = Body(file);
        var before = await StoreSnapshot.TakeAsync(app.ConnectionString);

        var bad = new Dictionary<string, (byte[] Bytes, string Expect)>
        {
            ["truncated"] = (bytes[..(bytes.Length / 2)], "truncated"),
            ["gzip-flipped"] = (Flip(bytes, bytes.Length / 2), "corrupt|truncated"),
            ["tampered"] = (Gzip(ReplaceFirst(text, "corp", "corq"), fixChecksum: false), "checksum does not match"),
            ["wrong-version"] = (Gzip(ReplaceFirst(text, "\"formatVersion\":1}", "\"formatVersion\":2}"), fixChecksum: true), "format version 2"),
            ["rows-dropped"] = (Gzip(DropLastEvent(text), fixChecksum: true), "differ from its manifest"),
            ["not-a-backup"] = (Encoding.UTF8.GetBytes("hello\n"), "not a complete Wirety backup|not a Wirety backup"),
            ["empty"] = ([], "not a complete Wirety backup|not a Wirety backup"),
        };
        foreach (var (name, (content, expect)) in bad)
        {
            var path = app.TempFile(name + ".wbk");
            await File.WriteAllBytesAsync(path, content);

            // An empty database stays empty: not even the schema is created.
            var empty = await app.CreateEmptyDatabaseAsync();
            var refused = await app.RunOnAsync(empty, "restore", "--in", path);
            Assert.True(refused.ExitCode == 1, $"{name}: {refused}");
            Assert.True(expect.Split('|').Any(e => refused.Error.Contains(e, StringComparison.OrdinalIgnoreCase)), $"{name}: {refused}");
            Assert.Equal(0, await OperationsApp.ScalarAsync(empty, "select count(*) from information_schema.schemata where schema_name = 'wirety'"));

            // A populated database is untouched, even with --force.
            var forced = await app.RunAsync("restore", "--in", path, "--force");
            Assert.True(forced.ExitCode == 1, $"{name} --force: {forced}");
        }
        StoreSnapshot.AssertEqual(before, await StoreSnapshot.TakeAsync(app.ConnectionString));

        var missing = await app.RunAsync("restore", "--in", app.TempFile("nope.wbk"));
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("no such file", missing.Error);
    }

    [Fact]
    public async Task restoring_into_a_database_with_data_is_refused_unless_forced()
    {
        var scenario = new Scenario(app);
        await scenario.BuildAsync();
        var file = app.TempFile("corp.wbk");
        Assert.Equal(0, (await app.RunAsync("backup", "--out", file)).ExitCode);
        var backedUp = await StoreSnapshot.TakeAsync(app.ConnectionString);

        // Later changes; a plain restore must not throw them away.
        Assert.Equal(HttpStatusCode.Created, (await app.Admin.PostAsJsonAsync("/api/v1/networks", new { name = "later", cidr = "10.30.0.0/24" })).StatusCode);
        var later = await StoreSnapshot.TakeAsync(app.ConnectionString);
        var refused = await app.RunAsync("restore", "--in", file, "--ignore-connected-servers");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("already holds Wirety data", refused.Error);
        Assert.Contains("--force", refused.Error);
        StoreSnapshot.AssertEqual(later, await StoreSnapshot.TakeAsync(app.ConnectionString));

        var forced = await app.RunAsync("restore", "--in", file, "--force", "--ignore-connected-servers");
        Assert.True(forced.ExitCode == 0, forced.ToString());
        Assert.Contains("deleted the existing", forced.Out);
        app.ClearCaches();
        StoreSnapshot.AssertEqual(backedUp, await StoreSnapshot.TakeAsync(app.ConnectionString));
    }

    [Fact]
    public async Task restore_is_refused_while_a_server_is_connected_to_the_database_and_restores_nothing()
    {
        var scenario = new Scenario(app);
        await scenario.BuildAsync();
        var file = app.TempFile("live-target.wbk");
        Assert.Equal(0, (await app.RunAsync("backup", "--out", file)).ExitCode);
        await app.WipeAsync();

        // The harness's server (the real Program) is running on this database: its connections say who they are.
        var refused = await app.RunAsync("restore", "--in", file);
        Assert.True(refused.ExitCode == 1, refused.ToString());
        Assert.Contains("a Wirety server is connected", refused.Error);
        Assert.Contains("wirety-server", refused.Error);
        Assert.Contains("Nothing was restored", refused.Error);
        Assert.Equal(0, await OperationsApp.ScalarAsync(app.ConnectionString, "select count(*) from wirety.mt_events"));
        Assert.Equal(0, await OperationsApp.ScalarAsync(app.ConnectionString, "select count(*) from wirety.mt_streams"));
        Assert.Equal(0, (await StoreSnapshot.TakeAsync(app.ConnectionString)).DocumentCount);

        // Into a database no server uses, the same file restores; the command's own connections do not count.
        var elsewhere = await app.CreateEmptyDatabaseAsync();
        var restored = await app.RunOnAsync(elsewhere, "restore", "--in", file);
        Assert.True(restored.ExitCode == 0, restored.ToString());
    }

    [Fact]
    public async Task with_an_hmac_key_a_tampered_or_unsigned_backup_is_refused_and_a_signed_one_restores()
    {
        var scenario = new Scenario(app);
        await scenario.BuildAsync();
        var key = app.TempFile("backup.key");
        await File.WriteAllTextAsync(key, Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)) + "\n");
        var otherKey = app.TempFile("other.key");
        await File.WriteAllTextAsync(otherKey, Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)) + "\n");

        var signed = app.TempFile("signed.wbk");
        var backup = await app.RunAsync("backup", "--out", signed, "--hmac-key-file", key);
        Assert.True(backup.ExitCode == 0, backup.ToString());
        Assert.Contains("signed (HMAC-SHA256)", backup.Out);
        Assert.Contains("\"hmacSha256\":\"", Unzip(File.ReadAllBytes(signed)));
        Assert.DoesNotContain((await File.ReadAllTextAsync(key)).Trim(), Unzip(File.ReadAllBytes(signed)) + backup.Out + backup.Error);
        Assert.Empty(Directory.GetFiles(app.WorkDir, "*.partial"));

        var unsigned = app.TempFile("unsigned.wbk");
        Assert.Equal(0, (await app.RunAsync("backup", "--out", unsigned)).ExitCode);
        Assert.DoesNotContain("hmacSha256", Unzip(File.ReadAllBytes(unsigned)));

        // An edit whose SHA-256 is recomputed passes the checksum: only the key catches it.
        var tampered = app.TempFile("tampered.wbk");
        await File.WriteAllBytesAsync(tampered, Edit(signed, body => ReplaceFirst(body, "corp", "corq")));
        // The manifest is covered too: a changed highest sequence is refused although the rows are untouched.
        var manifestEdited = app.TempFile("manifest-edited.wbk");
        await File.WriteAllBytesAsync(manifestEdited, Edit(signed, body => body, manifest =>
            System.Text.RegularExpressions.Regex.Replace(manifest, "\"highestSequence\":(\\d+)", m => $"\"highestSequence\":{long.Parse(m.Groups[1].Value) + 1000}")));

        foreach (var (file, keyFile, expect) in new[]
                 {
                     (tampered, key, "HMAC check"), (manifestEdited, key, "HMAC check"), (unsigned, key, "not signed"), (signed, otherKey, "HMAC check"),
                 })
        {
            var target = await app.CreateEmptyDatabaseAsync();
            var refused = await app.RunOnAsync(target, "restore", "--in", file, "--hmac-key-file", keyFile);
            Assert.True(refused.ExitCode == 1, $"{Path.GetFileName(file)}: {refused}");
            Assert.Contains(expect, refused.Error);
            Assert.Equal(0, await OperationsApp.ScalarAsync(target, "select count(*) from information_schema.schemata where schema_name = 'wirety'"));
        }

        // Without a key the checksum-fixed edit is not detectable, which is what the key is for.
        var keyless = await app.CreateEmptyDatabaseAsync();
        Assert.Equal(0, (await app.RunOnAsync(keyless, "restore", "--in", tampered)).ExitCode);

        // The signed backup restores with its key, given as an option or by WIRETY_BACKUP_HMAC_KEY_FILE; an unsigned one without a key.
        var target1 = await app.CreateEmptyDatabaseAsync();
        var ok = await app.RunOnAsync(target1, "restore", "--in", signed, "--hmac-key-file", key);
        Assert.True(ok.ExitCode == 0, ok.ToString());
        var target2 = await app.CreateEmptyDatabaseAsync();
        var config = new Microsoft.Extensions.Configuration.ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["WIRETY_DB"] = target2, ["WIRETY_BACKUP_HMAC_KEY_FILE"] = key,
        }).Build();
        var viaEnvironment = await app.RunWithConfigAsync(config, "restore", "--in", signed);
        Assert.True(viaEnvironment.ExitCode == 0, viaEnvironment.ToString());
        var target3 = await app.CreateEmptyDatabaseAsync();
        Assert.Equal(0, (await app.RunOnAsync(target3, "restore", "--in", unsigned)).ExitCode);

        // A key file that is too short is refused before anything happens.
        var shortKey = app.TempFile("short.key");
        await File.WriteAllTextAsync(shortKey, "abc\n");
        var tooShort = await app.RunAsync("backup", "--out", app.TempFile("x.wbk"), "--hmac-key-file", shortKey);
        Assert.True(tooShort.ExitCode == 1, tooShort.ToString());
        Assert.Contains("at least 16", tooShort.Error);
    }

    [Fact]
    public void the_backup_directory_can_be_fsynced_here()
    {
        // The rename is only durable once the directory is fsync'ed: on Linux that must really happen (not be skipped).
        Assert.Equal(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), Wirety.Server.Operations.DurableFiles.FsyncDirectory(app.WorkDir));
        Assert.False(Wirety.Server.Operations.DurableFiles.FsyncDirectory(Path.Combine(app.WorkDir, "no-such-directory")));
    }

    [Theory]
    [InlineData(new[] { "backup" }, 2, "needs --out")]
    [InlineData(new[] { "backup", "--out" }, 2, "needs a value")]
    [InlineData(new[] { "restore" }, 2, "needs --in")]
    [InlineData(new[] { "restore", "--in", "x", "--forse" }, 2, "unknown option --forse")]
    [InlineData(new[] { "backup", "--out", "/nonexistent-dir/x.wbk" }, 1, "does not exist")]
    [InlineData(new[] { "projections", "frobnicate" }, 2, "unknown projections subcommand")]
    public async Task bad_command_lines_are_refused_with_a_message_and_a_nonzero_exit_code(string[] args, int exit, string message)
    {
        var result = await app.RunAsync(args);
        Assert.True(result.ExitCode == exit, result.ToString());
        Assert.Contains(message, result.Error);
    }

    [Fact]
    public async Task without_WIRETY_DB_a_command_says_so()
    {
        var config = new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build();
        var result = await app.RunWithConfigAsync(config, "backup", "--out", app.TempFile("x.wbk"));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("WIRETY_DB is not set", result.Error);
    }

    [Fact]
    public async Task a_backup_holds_no_secret_values()
    {
        var scenario = new Scenario(app);
        await scenario.BuildAsync();
        var file = app.TempFile("secrets.wbk");
        Assert.Equal(0, (await app.RunAsync("backup", "--out", file)).ExitCode);
        var body = Body(file);
        Assert.DoesNotContain(OperationsApp.AdminToken, body);
        Assert.DoesNotContain("wirety_", body.Replace("wirety_changes", "").Replace("\"wirety:detection\"", ""));
        Assert.DoesNotContain("PrivateKey", body, StringComparison.OrdinalIgnoreCase);
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
    }

    private async Task<List<string>> ConfigsAsync(Scenario scenario)
    {
        var configs = new List<string>();
        foreach (var peer in scenario.Peers)
        {
            var response = await app.Admin.GetAsync($"/api/v1/networks/{scenario.Network}/peers/{peer}/config");
            // A problem body carries a per-request trace id: compare a refusal by its status only.
            configs.Add(response.IsSuccessStatusCode
                ? $"{peer} {(int)response.StatusCode} {response.Headers.ETag} {await response.Content.ReadAsStringAsync()}"
                : $"{peer} {(int)response.StatusCode}");
        }
        foreach (var agent in scenario.Agents)
        {
            var response = await agent.Client.GetAsync("/api/v1/agent/config");
            configs.Add(response.IsSuccessStatusCode
                ? $"agent {agent.PeerId} {(int)response.StatusCode} {response.Headers.ETag} {await response.Content.ReadAsStringAsync()}"
                : $"agent {agent.PeerId} {(int)response.StatusCode}");
        }
        return configs;
    }

    /// <summary>The uncompressed file without its manifest line (which holds the creation time).</summary>
    private static string Body(string path)
    {
        var text = Unzip(File.ReadAllBytes(path));
        return text[..text.IndexOf("\n#manifest ", StringComparison.Ordinal)];
    }

    private static string Unzip(byte[] bytes)
    {
        using var gzip = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
        using var reader = new StreamReader(gzip);
        return reader.ReadToEnd();
    }

    /// <summary>Recompresses a body with the original file's manifest, its checksum made to match the new body or left as it was.</summary>
    private byte[] Gzip(string body, bool fixChecksum)
    {
        var original = Unzip(File.ReadAllBytes(Directory.GetFiles(app.WorkDir, "*good.wbk").Single()));
        var manifest = original[(original.IndexOf("\n#manifest ", StringComparison.Ordinal) + 1)..];
        if (fixChecksum)
        {
            var sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(body + "\n")));
            manifest = System.Text.RegularExpressions.Regex.Replace(manifest, "\"sha256\":\"[0-9a-f]+\"", $"\"sha256\":\"{sha}\"");
        }
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
            gzip.Write(Encoding.UTF8.GetBytes(body + "\n" + manifest));
        return buffer.ToArray();
    }

    private static string ReplaceFirst(string text, string what, string with)
    {
        var at = text.IndexOf(what, StringComparison.Ordinal);
        Assert.True(at >= 0, $"'{what}' is in the backup");
        return text[..at] + with + text[(at + what.Length)..];
    }

    private static string DropLastEvent(string body)
    {
        var lines = body.Split('\n').ToList();
        var start = lines.FindIndex(l => l.StartsWith("#table {\"name\":\"mt_events\"", StringComparison.Ordinal));
        var end = lines.FindIndex(start, l => l == "\\.");
        lines.RemoveAt(end - 1);
        return string.Join('\n', lines);
    }

    /// <summary>The file with its body (and manifest) edited, and its SHA-256 made to match the edited body; the HMAC is left as it was.</summary>
    private static byte[] Edit(string path, Func<string, string> body, Func<string, string>? manifest = null)
    {
        var text = Unzip(File.ReadAllBytes(path));
        var at = text.IndexOf("\n#manifest ", StringComparison.Ordinal);
        var newBody = body(text[..at]);
        var newManifest = (manifest ?? (m => m))(text[(at + 1)..]);
        var sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(newBody + "\n")));
        newManifest = System.Text.RegularExpressions.Regex.Replace(newManifest, "\"sha256\":\"[0-9a-f]+\"", $"\"sha256\":\"{sha}\"");
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
            gzip.Write(Encoding.UTF8.GetBytes(newBody + "\n" + newManifest));
        return buffer.ToArray();
    }

    private static byte[] Flip(byte[] bytes, int at)
    {
        var copy = bytes.ToArray();
        copy[at] ^= 0x5A;
        return copy;
    }
}
