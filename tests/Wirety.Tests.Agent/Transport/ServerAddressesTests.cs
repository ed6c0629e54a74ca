using System.Net;
using Wirety.Agent.Running;
using static Wirety.Tests.Agent.TestData;

namespace Wirety.Tests.Agent.Transport;

public class ServerAddressesTests
{
    [Fact]
    public async Task an_address_literal_is_the_server_address_without_asking_dns()
    {
        Assert.Equal([IPAddress.Parse("203.0.113.7")], await new ServerAddresses(new Uri("https://203.0.113.7:8443/"), Log()).ResolveAsync(default));
        Assert.Equal([IPAddress.Parse("2001:db8::7")], await new ServerAddresses(new Uri("https://[2001:db8::7]/"), Log()).ResolveAsync(default));
    }

    [Fact]
    public async Task a_name_that_does_not_resolve_keeps_the_last_known_addresses_and_warns_once()
    {
        var sink = new StringWriter();
        // .invalid never resolves (RFC 6761).
        var servers = new ServerAddresses(new Uri("https://wirety.invalid/"), Log(sink));

        Assert.Empty(await servers.ResolveAsync(default));
        Assert.Empty(await servers.ResolveAsync(default));
        Assert.Single(sink.ToString().Split('\n'), l => l.Contains("cannot resolve the server's name wirety.invalid", StringComparison.Ordinal));
    }
}
