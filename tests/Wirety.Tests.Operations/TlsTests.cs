using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Wirety.Testing;
using Wirety.Tests.Operations.Harness;

namespace Wirety.Tests.Operations;

/// <summary>
/// The real server binary serving HTTPS itself (WIRETY_TLS_CERT / WIRETY_TLS_KEY), checked by a client that
/// trusts only a CA this test generates: no system trust store, no certificate check turned off.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class TlsTests : IAsyncLifetime
{
    private const string AdminToken = "wirety_test-admin-token-0123456789abcdefghijklmnop";
    private readonly string _dir = Directory.CreateTempSubdirectory("wirety-tls-test-").FullName;
    private ServerProcess? _server;
    private X509Certificate2 _ca = null!;

    public Task InitializeAsync()
    {
        (_ca, var leaf) = TestPki.CaAndServerCertificate("127.0.0.1");
        File.WriteAllText(CertFile, leaf.ExportCertificatePem() + "\n" + _ca.ExportCertificatePem() + "\n");
        File.WriteAllText(KeyFile, leaf.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem() + "\n");
        File.SetUnixFileMode(KeyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return Task.CompletedTask;
    }

    private string CertFile => Path.Combine(_dir, "server.crt");
    private string KeyFile => Path.Combine(_dir, "server.key");

    [Fact]
    public async Task the_server_serves_https_with_the_given_certificate_and_hsts()
    {
        var port = FreePort();
        var db = await (await PostgresCluster.SharedAsync()).CreateDatabaseAsync("wirety_tls_" + Guid.NewGuid().ToString("N")[..8]);
        _server = StartServer(new()
        {
            ["WIRETY_DB"] = db,
            ["WIRETY_URLS"] = $"https://127.0.0.1:{port}",
            ["WIRETY_TLS_CERT"] = CertFile,
            ["WIRETY_TLS_KEY"] = KeyFile,
        });
        using var https = new HttpClient(TrustingOnly(_ca)) { BaseAddress = new Uri($"https://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
        Assert.True(await _server.ReadyAsync(https), "the server did not answer /readyz over HTTPS:\n" + Log());

        var ready = await https.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("max-age=31536000", string.Join(",", ready.Headers.GetValues("Strict-Transport-Security")));

        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/networks");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        var networks = await https.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, networks.StatusCode);
        Assert.True(networks.Headers.Contains("Strict-Transport-Security"));

        // A client that does not trust the test CA refuses the server: the certificate really is the one given.
        using var untrusting = new HttpClient(new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions { CertificateRevocationCheckMode = X509RevocationMode.NoCheck },
        }) { BaseAddress = https.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => untrusting.GetAsync("/readyz"));
        Assert.IsAssignableFrom<AuthenticationException>(refused.InnerException);

        // Plain HTTP on the HTTPS port gets no answer of substance (Kestrel closes or answers 400), never the API.
        using var plain = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
        try
        {
            var answer = await plain.GetAsync("/readyz");
            Assert.NotEqual(HttpStatusCode.OK, answer.StatusCode);
        }
        catch (HttpRequestException) { }
    }

    [Theory]
    [InlineData(true, false, "WIRETY_TLS_KEY")]
    [InlineData(false, true, "WIRETY_TLS_CERT")]
    public async Task half_a_tls_configuration_refuses_to_start(bool cert, bool key, string named)
    {
        var env = new Dictionary<string, string>
        {
            // Never reached: the TLS settings are checked before anything connects.
            ["WIRETY_DB"] = "Host=tls-test.invalid;Database=wirety",
            ["WIRETY_URLS"] = $"https://127.0.0.1:{FreePort()}",
        };
        if (cert) env["WIRETY_TLS_CERT"] = CertFile;
        if (key) env["WIRETY_TLS_KEY"] = KeyFile;
        _server = StartServer(env);
        Assert.NotEqual(0, await _server.ExitCodeAsync());
        Assert.Contains(named, Log());
    }

    [Fact]
    public async Task a_certificate_with_no_https_address_to_serve_it_refuses_to_start()
    {
        _server = StartServer(new()
        {
            ["WIRETY_DB"] = "Host=tls-test.invalid;Database=wirety",
            ["WIRETY_URLS"] = $"http://127.0.0.1:{FreePort()}",
            ["WIRETY_TLS_CERT"] = CertFile,
            ["WIRETY_TLS_KEY"] = KeyFile,
        });
        Assert.NotEqual(0, await _server.ExitCodeAsync());
        Assert.Contains("no https:// address", Log());
    }

    [Fact]
    public async Task a_key_that_does_not_match_the_certificate_refuses_to_start()
    {
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        File.WriteAllText(KeyFile, other.ExportPkcs8PrivateKeyPem());
        _server = StartServer(new()
        {
            ["WIRETY_DB"] = "Host=tls-test.invalid;Database=wirety",
            ["WIRETY_URLS"] = $"https://127.0.0.1:{FreePort()}",
            ["WIRETY_TLS_CERT"] = CertFile,
            ["WIRETY_TLS_KEY"] = KeyFile,
        });
        Assert.NotEqual(0, await _server.ExitCodeAsync());
        Assert.Contains("cannot load the TLS certificate", Log());
    }

    private ServerProcess StartServer(Dictionary<string, string> env)
    {
        env.TryAdd("WIRETY_ADMIN_TOKEN", AdminToken);
        return ServerProcess.Start(_dir, env);
    }

    private string Log() => _server?.Log() ?? "";

    /// <summary>A handler whose only trust anchor is <paramref name="ca"/>.</summary>
    private static SocketsHttpHandler TrustingOnly(X509Certificate2 ca) => new()
    {
        SslOptions = new SslClientAuthenticationOptions
        {
            CertificateChainPolicy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                CustomTrustStore = { ca },
                RevocationMode = X509RevocationMode.NoCheck,
            },
        },
    };

    private static int FreePort() => ServerProcess.FreePort();

    public async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}

/// <summary>A throwaway CA and a server certificate it signed, made with CertificateRequest (nothing from the system store).</summary>
internal static class TestPki
{
    public static (X509Certificate2 Ca, X509Certificate2 Server) CaAndServerCertificate(string ipAddress)
    {
        var now = DateTimeOffset.UtcNow;
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=Wirety test CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));

        var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=wirety-test-server", serverKey, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Parse(ipAddress));
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f;
        using var signed = request.Create(ca, now.AddDays(-1), now.AddDays(7), serial);
        return (ca, signed.CopyWithPrivateKey(serverKey));
    }
}
