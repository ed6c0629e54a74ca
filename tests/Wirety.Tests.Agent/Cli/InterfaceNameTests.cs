using Wirety.Agent.Cli;

namespace Wirety.Tests.Agent.Cli;

/// <summary>An interface name ends the pattern with \z: "wg0\n" (which $ would let through) is refused.</summary>
public class InterfaceNameTests
{
    [Theory]
    [InlineData("wg0", true)]
    [InlineData("wirety_mesh.1", true)]
    [InlineData("wg0\n", false)]
    [InlineData("wg0\r\n", false)]
    [InlineData("..", false)]
    [InlineData("a-name-of-16-chr", false)]
    public void interface_names_are_checked_to_the_very_end(string name, bool ok) =>
        Assert.Equal(ok, CommandLine.IsInterfaceName(name));
}
