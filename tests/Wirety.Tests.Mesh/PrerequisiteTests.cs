using Wirety.Tests.Mesh.Harness;

namespace Wirety.Tests.Mesh;

/// <summary>The mesh test's failure message when the machine lacks something (the test fails with it; it never skips).</summary>
public sealed class PrerequisiteTests
{
    [Fact]
    public void missing_tools_are_named_with_their_packages_and_the_install_command()
    {
        var problem = Prerequisites.Problem(isRoot: true, hasTun: true, toolExists: tool => tool is not ("wireguard-go" or "ping"));

        Assert.NotNull(problem);
        Assert.Contains("wireguard-go (package wireguard-go)", problem, StringComparison.Ordinal);
        Assert.Contains("ping (package iputils-ping)", problem, StringComparison.Ordinal);
        Assert.Contains("ops/install-prereqs.sh --wireguard --network", problem, StringComparison.Ordinal);
        Assert.Contains("apt-get install -y wireguard-go iputils-ping", problem, StringComparison.Ordinal);
        Assert.DoesNotContain("wireguard-tools", problem, StringComparison.Ordinal);
        Assert.DoesNotContain("not running as root", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void running_without_root_or_a_tun_device_is_named_too()
    {
        var problem = Prerequisites.Problem(isRoot: false, hasTun: false, toolExists: _ => true);

        Assert.NotNull(problem);
        Assert.Contains("not running as root", problem, StringComparison.Ordinal);
        Assert.Contains("/dev/net/tun", problem, StringComparison.Ordinal);
        Assert.DoesNotContain("missing ip", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void a_complete_machine_has_no_problem() =>
        Assert.Null(Prerequisites.Problem(isRoot: true, hasTun: true, toolExists: _ => true));
}
