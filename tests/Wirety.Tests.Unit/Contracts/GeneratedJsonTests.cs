using System.Text.Json;
using System.Text.Json.Serialization;
using Wirety.Events.Agent;
using Wirety.Server.LiveChannel;

namespace Wirety.Tests.Unit.Contracts;

/// <summary>
/// The generated JSON contexts replaced reflection over options with the same settings; what they write
/// (and so config ETags, stored files and notices) must be byte-identical to what the options wrote.
/// </summary>
public class GeneratedJsonTests
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);
    private static readonly JsonSerializerOptions WebWithoutNulls = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private static readonly AgentConfig Config = new("17", "jump",
        new AgentInterface("198.18.0.1/32", 51820, null, ["198.18.0.53", "2001:db8::53"]),
        [
            new AgentPeer("xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=", "[2001:db8::1]:51820", ["198.18.0.2/32", "fd00::/64"], 25),
            new AgentPeer("TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0=", null, [], null),
        ],
        new AgentForwarding(["198.18.0.9/32"]));

    [Fact]
    public void the_agent_protocol_writes_what_web_defaults_wrote()
    {
        Assert.Equal(JsonSerializer.Serialize(Config, Web), JsonSerializer.Serialize(Config, AgentProtocolJson.Default.AgentConfig));
        Assert.Equal(JsonSerializer.Serialize(Config.Peers[0], Web), JsonSerializer.Serialize(Config.Peers[0], AgentProtocolJson.Default.AgentPeer));
        var enroll = new EnrollRequest("wirety_et_<&>'\"", "key", "höst – ü", "0.1.0");
        Assert.Equal(JsonSerializer.Serialize(enroll, Web), JsonSerializer.Serialize(enroll, AgentProtocolJson.Default.EnrollRequest));
        var heartbeat = new HeartbeatRequest("host", null, ["192.0.2.1:51820"], 42,
            [new PeerStat("key", DateTimeOffset.Parse("2026-12-02T10:00:00+01:00", System.Globalization.CultureInfo.InvariantCulture), 1, 2)]);
        Assert.Equal(JsonSerializer.Serialize(heartbeat, Web), JsonSerializer.Serialize(heartbeat, AgentProtocolJson.Default.HeartbeatRequest));
        var message = new AgentMessage(AgentMessage.ConfigChanged, "17");
        Assert.Equal("""{"type":"config-changed","version":"17"}""", JsonSerializer.Serialize(message, AgentProtocolJson.Default.AgentMessage));
    }

    [Fact]
    public void the_agent_protocol_reads_what_web_defaults_read()
    {
        var json = JsonSerializer.Serialize(Config, Web).Replace("\"listenPort\":51820", "\"ListenPort\":\"51820\"", StringComparison.Ordinal);
        var read = JsonSerializer.Deserialize(json, AgentProtocolJson.Default.AgentConfig)!;
        Assert.Equal(JsonSerializer.Serialize(JsonSerializer.Deserialize<AgentConfig>(json, Web), Web), JsonSerializer.Serialize(read, Web));
        Assert.Equal(51820, read.Interface.ListenPort);
    }

    [Fact]
    public void live_notices_write_what_web_defaults_without_nulls_wrote()
    {
        LiveNotice[] notices =
        [
            new(LiveNotice.Ready),
            LiveNotice.Network(Guid.Parse("0197a000-0000-7000-8000-000000000001"), 12),
            LiveNotice.Peer(Guid.Empty, Guid.Parse("0197a000-0000-7000-8000-000000000002"), PeerChange.Endpoint),
            new(LiveNotice.IncidentDetected) { IncidentId = Guid.Empty, IncidentType = "sessionConflict" },
        ];
        foreach (var notice in notices)
            Assert.Equal(JsonSerializer.SerializeToUtf8Bytes(notice, WebWithoutNulls), notice.ToUtf8Json());
    }
}
