using System.Text;
using System.Text.Json;
using Wirety.Agent.Deltas;
using Wirety.Events.Agent;
using Wirety.Tests.Agent.Fakes;
using static Wirety.Tests.Agent.TestData;

namespace Wirety.Tests.Agent.Deltas;

/// <summary>Only an envelope signed by the pinned key, for this agent, over exactly what was sent, verifies.</summary>
public sealed class EnvelopeVerificationTests : IDisposable
{
    private readonly DeltaSigner _server = new();
    private readonly Guid _me = Guid.NewGuid();

    private AgentEnvelope Added(Guid recipient, DeltaSigner? by = null) =>
        DeltaSigner.RoundTrip((by ?? _server).PeerChange(recipient, AgentDeltaTypes.PeerAdded, 8, 7,
            new AgentPeerChange(Guid.NewGuid(), Laptop() with { Id = null })));

    [Fact]
    public void a_well_signed_envelope_for_this_agent_verifies()
    {
        var verifier = EnvelopeVerifier.For(_me, _server.PublicKey);

        Assert.NotNull(verifier);
        Assert.True(verifier.Verify(Added(_me)));
    }

    [Fact]
    public void a_tampered_payload_or_version_does_not_verify()
    {
        var verifier = EnvelopeVerifier.For(_me, _server.PublicKey)!;
        var good = Added(_me);
        // Same signature, payload with another endpoint.
        var text = good.Payload.GetRawText().Replace("192.0.2.10", "192.0.2.66", StringComparison.Ordinal);
        Assert.NotEqual(good.Payload.GetRawText(), text);
        var tampered = good with { Payload = JsonDocument.Parse(text).RootElement.Clone() };

        Assert.False(verifier.Verify(tampered));
        Assert.False(verifier.Verify(good with { NetworkVersion = 9 }));
        Assert.False(verifier.Verify(good with { PreviousVersion = 6 }));
        Assert.False(verifier.Verify(good with { Type = AgentDeltaTypes.PeerRemoved }));
    }

    [Fact]
    public void an_envelope_signed_for_another_agent_does_not_verify_here()
    {
        var verifier = EnvelopeVerifier.For(_me, _server.PublicKey)!;

        Assert.False(verifier.Verify(Added(Guid.NewGuid())));
    }

    [Fact]
    public void an_envelope_signed_with_another_key_does_not_verify()
    {
        using var impostor = new DeltaSigner();
        var verifier = EnvelopeVerifier.For(_me, _server.PublicKey)!;

        Assert.False(verifier.Verify(Added(_me, impostor)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not-a-signature")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++")]
    public void an_unsigned_or_malformed_signature_does_not_verify(string signature)
    {
        var verifier = EnvelopeVerifier.For(_me, _server.PublicKey)!;

        Assert.False(verifier.Verify(Added(_me) with { Signature = signature }));
        Assert.False(verifier.Verify(Added(_me) with { Signature = null! }));
    }

    [Fact]
    public void an_unsigned_message_from_the_socket_is_parsed_but_does_not_verify()
    {
        var verifier = EnvelopeVerifier.For(_me, _server.PublicKey)!;
        var parsed = Wirety.Agent.Server.ConfigChangeListener.ParseEnvelope(
            Encoding.UTF8.GetBytes("""{"type":"peer-added","networkVersion":8,"previousVersion":7,"payload":{"peerId":"00000000-0000-0000-0000-000000000001"}}"""));

        Assert.NotNull(parsed);
        Assert.False(verifier.Verify(parsed));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("short")]
    [InlineData("++++++++++++++++++++++++++++++++++++++++++=")]
    public void a_missing_or_malformed_signing_key_gives_no_verifier(string? key)
    {
        Assert.Null(EnvelopeVerifier.For(_me, key));
        Assert.False(EnvelopeVerifier.IsWellFormedKey(key));
    }

    public void Dispose() => _server.Dispose();
}
