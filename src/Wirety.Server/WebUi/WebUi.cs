using Microsoft.Extensions.FileProviders;
using Microsoft.Net.Http.Headers;

namespace Wirety.Server.WebUi;

/// <summary>
/// Serves the built web UI (<c>frontend/dist</c>, or <c>WIRETY_WEB_ROOT</c>) at <c>/</c>: its files, and
/// <c>index.html</c> for any other GET outside <c>/api</c> so that the SPA's own routes survive a reload.
/// It runs before authentication and only for requests no endpoint claimed, so the UI itself is public
/// (it holds no data; the browser signs in with an API token) while every <c>/api</c> path stays behind
/// the API's authorization, and an unknown <c>/api</c> path stays a 404 problem.
/// </summary>
public static class WebUi
{
    public const string RootSetting = "WIRETY_WEB_ROOT";

    public static IApplicationBuilder UseWebUi(this WebApplication app)
    {
        var root = Path.GetFullPath(app.Configuration[RootSetting] is { Length: > 0 } r ? r : Path.Combine("frontend", "dist"));
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(WebUi));
        if (!File.Exists(Path.Combine(root, "index.html")))
        {
            log.LogInformation("No web UI at {WebRoot} (no index.html); serving the API only. Build it with `make run` or set {Setting}.", root, RootSetting);
            return app;
        }
        log.LogInformation("Serving the web UI from {WebRoot}", root);
        var files = new PhysicalFileProvider(root);
        var staticFiles = new StaticFileOptions
        {
            FileProvider = files,
            OnPrepareResponse = c =>
            {
                // Vite puts content hashes in the names under assets/: cache those for good, revalidate the rest.
                c.Context.Response.Headers[HeaderNames.CacheControl] = c.Context.Request.Path.StartsWithSegments("/assets")
                    ? "public, max-age=31536000, immutable"
                    : "no-cache";
            },
        };
        app.UseWhen(IsForTheUi, ui =>
        {
            ui.UseStaticFiles(staticFiles);
            ui.Run(async http =>
            {
                // A missing file (a name with an extension) is a 404, not the app: a stale script tag must not get HTML.
                if (Path.HasExtension(http.Request.Path.Value))
                {
                    http.Response.StatusCode = StatusCodes.Status404NotFound;
                    return;
                }
                var index = files.GetFileInfo("index.html");
                http.Response.ContentType = "text/html; charset=utf-8";
                http.Response.Headers[HeaderNames.CacheControl] = "no-cache";
                http.Response.ContentLength = index.Length;
                if (HttpMethods.IsHead(http.Request.Method)) return;
                await http.Response.SendFileAsync(index, http.RequestAborted);
            });
        });
        return app;
    }

    /// <summary>A GET/HEAD outside <c>/api</c> that no endpoint (health, API) matched.</summary>
    private static bool IsForTheUi(HttpContext http) =>
        (HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method))
        && http.GetEndpoint() is null
        && !http.Request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase);
}
