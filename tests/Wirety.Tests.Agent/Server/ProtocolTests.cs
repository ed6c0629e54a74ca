using System.Text;
using Wirety.Agent.Identity;
using Wirety.Agent.Server;
using Wirety.Events.Agent;

namespace Wirety.Tests.Agent.Server;

public class ProtocolTests
{
    [Theory]
    [InlineData("https://wirety.example.com", "https://wirety.example.com/api/v1/agent/config", "wss://wirety.example.com/api/v1/agent/ws")]
    [InlineData("https://wirety.example.com/", "https://wirety.example.com/api/v1/agent/config", "wss://wirety.example.com/api/v1/agent/ws")]
    [InlineData("http://192.0.2.1:8080/wirety", "http://192.0.2.1:8080/wirety/api/v1/agent/config", "ws://192.0.2.1:8080/wirety/api/v1/agent/ws")]
    public void endpoints_resolve_under_the_server_url(string server, string config, string ws)
    {
        Assert.Equal(config, AgentRequests.Endpoint(new Uri(server), "config").ToString());
        Assert.Equal(ws, AgentRequests.WebSocket(new Uri(server)).ToString());
    }

    [Fact]
    public async Task requests_carry_the_contracts_json_and_the_bearer_session()
    {
        var session = new Secret("wst_session");
        using var config = AgentRequests.GetConfig(new Uri("https://w.example"), session, "\"abc\"");
        using var heartbeat = AgentRequests.Heartbeat(new Uri("https://w.example"), session,
            new HeartbeatRequest("laptop", 51820, null, 60, [new PeerStat("k", null, 1, 2)]));

        Assert.Equal("Bearer wst_session", config.Headers.Authorization!.ToString());
        Assert.Equal("\"abc\"", Assert.Single(config.Headers.IfNoneMatch).ToString());
        var json = await heartbeat.Content!.ReadAsStringAsync();
        Assert.Equal("""{"hostname":"laptop","listenPort":51820,"endpoints":null,"uptimeSeconds":60,"peerStats":[{"publicKey":"k","latestHandshake":null,"rxBytes":1,"txBytes":2}]}""", json);
    }

    [Fact]
    public void push_messages_are_read_and_unknown_ones_ignored()
    {
        var changed = ConfigChangeListener.Parse(Encoding.UTF8.GetBytes("""{"type":"config-changed","version":"17"}"""));

        Assert.Equal(new AgentMessage(AgentMessage.ConfigChanged, "17"), changed);
        Assert.Equal("hello", ConfigChangeListener.Parse("""{"type":"hello"}"""u8)!.Type);
        Assert.Null(ConfigChangeListener.Parse("not json"u8));
    }
}
