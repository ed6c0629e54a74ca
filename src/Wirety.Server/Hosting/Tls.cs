using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Wirety.Server.Hosting;

/// <summary>
/// HTTPS served by the server itself: <c>WIRETY_TLS_CERT</c> (PEM: the certificate, optionally followed by its
/// intermediates) and <c>WIRETY_TLS_KEY</c> (PEM private key, unencrypted) become the certificate of every
/// <c>https://</c> address in <c>WIRETY_URLS</c>, and HTTPS responses carry HSTS. Without <c>WIRETY_URLS</c> the
/// server then listens on <c>https://127.0.0.1:8443</c>. Neither set: plain HTTP as before (<c>make run</c>).
/// A half or unreadable configuration refuses to start rather than fall back to plain HTTP.
/// </summary>
public static class Tls
{
    public const string CertSetting = "WIRETY_TLS_CERT", KeySetting = "WIRETY_TLS_KEY";
    public const string DefaultHttpsUrl = "https://127.0.0.1:8443";
    /// <summary>One year, with subdomains not claimed: the server does not know what else lives under its domain.</summary>
    public static readonly TimeSpan HstsMaxAge = TimeSpan.FromDays(365);

    public static WebApplicationBuilder UseWiretyTls(this WebApplicationBuilder builder)
    {
        var certPath = builder.Configuration[CertSetting];
        var keyPath = builder.Configuration[KeySetting];
        if (string.IsNullOrWhiteSpace(certPath) && string.IsNullOrWhiteSpace(keyPath)) return builder;
        if (string.IsNullOrWhiteSpace(certPath) || string.IsNullOrWhiteSpace(keyPath))
            throw new InvalidOperationException($"{CertSetting} and {KeySetting} go together: set both (PEM files) or neither; refusing to start.");

        var (certificate, chain) = Load(certPath, keyPath);

        // Runs before Program.cs picks its default (http://127.0.0.1:8080): with a certificate the default is HTTPS.
        var urls = builder.Configuration["WIRETY_URLS"] is { Length: > 0 } w ? w
            : builder.Configuration["urls"] ?? builder.Configuration["ASPNETCORE_URLS"];
        if (string.IsNullOrWhiteSpace(urls)) builder.WebHost.UseUrls(urls = DefaultHttpsUrl);
        if (!urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Any(u => u.StartsWith("https://", StringComparison.OrdinalIgnoreCase)))
            throw new InvalidOperationException(
                $"{CertSetting} is set but WIRETY_URLS ({urls}) has no https:// address to serve it on; refusing to start.");

        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureHttpsDefaults(https =>
        {
            https.ServerCertificate = certificate;
            https.ServerCertificateChain = chain;
            https.SslProtocols = System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13;
            https.ClientCertificateMode = ClientCertificateMode.NoCertificate;
        }));
        builder.Services.AddHsts(o =>
        {
            o.MaxAge = HstsMaxAge;
            o.IncludeSubDomains = false;
            o.Preload = false;
            // UseHsts leaves out localhost by default; the header is harmless there and tests run on loopback.
            o.ExcludedHosts.Clear();
        });
        builder.Services.AddSingleton<IStartupFilter, HstsStartupFilter>();
        return builder;
    }

    /// <summary>The certificate with its private key, and whatever intermediates follow it in the certificate file.</summary>
    internal static (X509Certificate2 Certificate, X509Certificate2Collection Chain) Load(string certPath, string keyPath)
    {
        X509Certificate2 certificate;
        var chain = new X509Certificate2Collection();
        try
        {
            certificate = X509Certificate2.CreateFromPemFile(certPath, keyPath);
            chain.ImportFromPemFile(certPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            throw new InvalidOperationException(
                $"cannot load the TLS certificate ({CertSetting}={certPath}, {KeySetting}={keyPath}): {e.Message}; refusing to start.", e);
        }
        if (!certificate.HasPrivateKey)
            throw new InvalidOperationException($"{KeySetting} holds no private key for the certificate in {CertSetting}; refusing to start.");
        // The leaf comes first in the file; the rest is the chain sent to clients.
        var intermediates = new X509Certificate2Collection();
        foreach (var c in chain.Skip(1)) intermediates.Add(c);
        return (certificate, intermediates);
    }

    /// <summary>HSTS first in the pipeline, so every HTTPS answer carries it (UseHsts only answers HTTPS requests).</summary>
    private sealed class HstsStartupFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.UseHsts();
            next(app);
        };
    }
}
