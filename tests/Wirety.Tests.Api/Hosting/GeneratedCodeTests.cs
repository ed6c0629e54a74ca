using JasperFx.CodeGeneration;
using Microsoft.Extensions.DependencyInjection;
using Wirety.Tests.Api.Harness;
using Wolverine;

namespace Wirety.Tests.Api.Hosting;

/// <summary>
/// The server runs Wolverine's handler and endpoint code generated ahead of time (`make codegen`), loaded from
/// the server's assembly even when a test assembly is the entry assembly, with no runtime compiler at all.
/// (That every endpoint and handler has its generated type is what the rest of this suite relies on: Static
/// mode refuses to start otherwise.)
/// </summary>
public sealed class GeneratedCodeTests(WiretyApp app) : ApiTest(app)
{
    [Fact]
    public void the_server_loads_pre_generated_code_from_its_own_assembly_and_has_no_runtime_compiler()
    {
        var generation = App.Services.GetRequiredService<WolverineOptions>().CodeGeneration;
        Assert.Equal(TypeLoadMode.Static, generation.TypeLoadMode);
        Assert.Same(typeof(Program).Assembly, generation.ApplicationAssembly);
        Assert.NotNull(typeof(Program).Assembly.GetType("Internal.Generated.WolverineHandlers.GeneratedHttpEndpointRegistry"));
        Assert.NotNull(typeof(Program).Assembly.GetType("Internal.Generated.WolverineHandlers.GeneratedHandlerRegistry"));
        Assert.Null(App.Services.GetService<IAssemblyGenerator>());
    }
}
