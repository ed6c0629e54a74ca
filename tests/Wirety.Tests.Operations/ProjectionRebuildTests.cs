using System.Net.Http.Json;
using Marten;
using Wirety.Server.Operations;
using Wirety.Tests.Operations.Harness;

namespace Wirety.Tests.Operations;

[Collection(OperationsCollection.Name)]
public sealed class ProjectionRebuildTests(OperationsApp app) : IAsyncLifetime
{
    public Task InitializeAsync() => app.ResetAsync();
    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task rebuilding_all_projections_reproduces_every_read_model_document_even_after_they_were_damaged()
    {
        await new Scenario(app).BuildAsync();
        var live = await StoreSnapshot.TakeAsync(app.ConnectionString);

        // Unchanged input: the rebuild writes exactly what the live projections wrote.
        var result = await app.RunAsync("projections", "rebuild");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("rebuilt Network, ApiToken, Incident, User, PeerConfigProjection, AgentAccessProjection", result.Out);
        StoreSnapshot.AssertEqual(live, await StoreSnapshot.TakeAsync(app.ConnectionString));

        // Damaged read models (lost and altered documents, a stray one) come back as they were.
        await OperationsApp.ExecAsync(app.ConnectionString, """
            update wirety.mt_doc_network set data = jsonb_set(data, '{name}', '"vandalised"');
            delete from wirety.mt_doc_agentsession;
            delete from wirety.mt_doc_configsource;
            insert into wirety.mt_doc_incident (id, data, mt_last_modified, mt_version, mt_dotnet_type)
              select gen_random_uuid(), data, now(), mt_version, mt_dotnet_type from wirety.mt_doc_incident limit 1;
            """);
        Assert.NotEmpty((await StoreSnapshot.TakeAsync(app.ConnectionString)).Differences(live));
        result = await app.RunAsync("projections", "rebuild");
        Assert.True(result.ExitCode == 0, result.ToString());
        StoreSnapshot.AssertEqual(live, await StoreSnapshot.TakeAsync(app.ConnectionString));
    }

    [Fact]
    public async Task admin_changes_made_during_a_rebuild_are_neither_lost_nor_applied_twice()
    {
        var scenario = new Scenario(app);
        await scenario.BuildAsync();
        var peer = scenario.Agents[2].PeerId;

        // Writes racing the rebuild wait for it (appends are locked out) and then project onto the new documents.
        var rebuild = app.RunAsync("projections", "rebuild");
        var writes = Task.Run(async () =>
        {
            for (var i = 0; i < 6; i++)
            {
                var action = i % 2 == 0 ? "block" : "unblock";
                var response = await app.Admin.PostAsJsonAsync($"/api/v1/networks/{scenario.Network}/peers/{peer}/{action}", new { reason = $"drill {i}" });
                Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
            }
            var last = await app.Admin.PostAsJsonAsync($"/api/v1/networks/{scenario.Network}/peers/{peer}/block", new { reason = "final" });
            Assert.True(last.IsSuccessStatusCode);
        });
        var result = await rebuild;
        await writes;
        Assert.True(result.ExitCode == 0, result.ToString());

        var afterRace = await StoreSnapshot.TakeAsync(app.ConnectionString);
        var view = await app.Admin.GetFromJsonAsync<System.Text.Json.JsonElement>($"/api/v1/networks/{scenario.Network}/peers/{peer}");
        Assert.True(view.GetProperty("blocked").GetBoolean());
        Assert.Equal("final", view.GetProperty("blockReason").GetString());
        Assert.Equal(0, (await app.RunAsync("projections", "rebuild")).ExitCode);
        StoreSnapshot.AssertEqual(afterRace, await StoreSnapshot.TakeAsync(app.ConnectionString));
    }

    [Theory]
    [InlineData("PeerConfigProjection", "mt_doc_configsource")]
    [InlineData("agentaccessprojection", "mt_doc_agentsession")]
    [InlineData("Network", "mt_doc_network")]
    public async Task rebuilding_one_projection_restores_its_documents_and_leaves_the_others_alone(string name, string table)
    {
        await new Scenario(app).BuildAsync();
        var live = await StoreSnapshot.TakeAsync(app.ConnectionString);
        await OperationsApp.ExecAsync(app.ConnectionString, $"delete from wirety.{table}");

        var result = await app.RunAsync("projections", "rebuild", name);
        Assert.True(result.ExitCode == 0, result.ToString());
        StoreSnapshot.AssertEqual(live, await StoreSnapshot.TakeAsync(app.ConnectionString));
    }

    [Fact]
    public async Task an_unknown_projection_is_refused_and_changes_nothing()
    {
        await new Scenario(app).BuildAsync();
        var live = await StoreSnapshot.TakeAsync(app.ConnectionString);
        var result = await app.RunAsync("projections", "rebuild", "Nonsense");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("no projection named Nonsense", result.Error);
        Assert.Contains("PeerConfigProjection", result.Error);
        StoreSnapshot.AssertEqual(live, await StoreSnapshot.TakeAsync(app.ConnectionString));

        var extra = await app.RunAsync("projections", "rebuild", "Network", "Incident");
        Assert.Equal(2, extra.ExitCode);
    }

    [Fact]
    public async Task a_rebuild_on_a_database_without_wirety_is_refused()
    {
        var empty = await app.CreateEmptyDatabaseAsync();
        var result = await app.RunOnAsync(empty, "projections", "rebuild");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("no Wirety event store", result.Error);
        Assert.Equal(0, await OperationsApp.ScalarAsync(empty, "select count(*) from information_schema.schemata where schema_name = 'wirety'"));
    }

    [Fact]
    public async Task projections_list_names_every_projection_and_the_documents_it_owns()
    {
        var result = await app.RunAsync("projections", "list");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("PeerConfigProjection\tInline\tConfigSource", result.Out);
        Assert.Contains("PeerSightings", result.Out);
    }

    /// <summary>
    /// Every document type the store knows is either owned by a projection (cleared and rebuilt) or a
    /// state document (carried in backups). A new projected type that forgets to declare itself would
    /// show up here as "state" — so the state set is pinned.
    /// </summary>
    [Fact]
    public void every_document_type_is_either_projected_or_a_declared_state_document()
    {
        // The store as the commands build it (the server's also maps Wolverine's envelopes, which it keeps in its own tables).
        using var store = DocumentStore.For(opts => Wirety.Server.Hosting.ServerStore.Configure(opts, app.ConnectionString));
        var layout = new StoreLayout(store);
        Assert.Equal(["DeadLetterEvent", "PeerSightings", "PublicKeyClaim"], layout.StateDocumentTypes.Select(t => t.Name));
        Assert.Equal(["UiSession"], layout.TransientDocumentTypes.Select(t => t.Name));
        Assert.All(layout.Projections, p => Assert.NotEmpty(p.DocumentTypes));
    }
}
