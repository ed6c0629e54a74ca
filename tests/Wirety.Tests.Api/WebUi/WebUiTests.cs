using System.Net;
using Wirety.Tests.Api.Harness;

namespace Wirety.Tests.Api.WebUi;

public sealed class WebUiTests(WiretyApp app) : ApiTest(app)
{
    private const string IndexHtml = "<!doctype html><title>Wirety test UI</title><div id=\"root\"></div>";
    private const string AppJs = "console.log('wirety test bundle');";

    public static string CreateWebRoot()
    {
        var root = Directory.CreateTempSubdirectory("wirety-test-webroot-").FullName;
        File.WriteAllText(Path.Combine(root, "index.html"), IndexHtml);
        Directory.CreateDirectory(Path.Combine(root, "assets"));
        File.WriteAllText(Path.Combine(root, "assets", "app-1234abcd.js"), AppJs);
        return root;
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/networks")]
    [InlineData("/networks/8f7c2b8e-0d5e-4a43-9a1a-3f0c9d7c1e55/peers")]
    [InlineData("/incidents?state=open")]
    public async Task the_ui_and_its_client_side_routes_are_served_without_a_token(string path)
    {
        var response = await App.Client(null).GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(IndexHtml, await response.Content.ReadAsStringAsync());
        Assert.Equal("no-cache", response.Headers.CacheControl?.ToString());
    }

    [Fact]
    public async Task built_assets_are_served_as_files_and_cached_for_good()
    {
        var response = await App.Client(null).GetAsync("/assets/app-1234abcd.js");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/javascript", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(AppJs, await response.Content.ReadAsStringAsync());
        Assert.Contains("immutable", response.Headers.CacheControl?.ToString());
    }

    [Fact]
    public async Task a_missing_asset_is_a_404_not_the_app()
    {
        var response = await App.Client(null).GetAsync("/assets/gone-00000000.js");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.DoesNotContain("<!doctype", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("/api/v1/networks")]
    [InlineData("/api/v1/does-not-exist")]
    [InlineData("/api")]
    [InlineData("/API/v1/networks")]
    public async Task api_paths_still_need_a_token(string path)
    {
        var response = await App.Client(null).GetAsync(path);
        await AssertProblemAsync(response, 401);
    }

    [Theory]
    [InlineData("/api/v1/does-not-exist")]
    [InlineData("/api/v1/networks/not-a-guid/nothing-here")]
    public async Task an_unknown_api_path_is_a_404_problem_and_never_the_app(string path)
    {
        var response = await Admin.GetAsync(path);
        var body = await AssertProblemAsync(response, 404);
        Assert.Equal(404, body.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task a_post_outside_the_api_is_not_answered_with_the_app()
    {
        var response = await App.Client(null).PostAsync("/networks", new StringContent("{}"));
        Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain("Wirety test UI", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task health_endpoints_are_not_shadowed_by_the_app()
    {
        var response = await App.Client(null).GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain("Wirety test UI", await response.Content.ReadAsStringAsync());
    }
}
