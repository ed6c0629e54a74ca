namespace Wirety.Projections.Incidents;

/// <summary>Where and by which session a peer was seen, taken from one of its heartbeats.</summary>
/// <param name="EndpointAddress">The IP part of the endpoint others would dial (null when unknown).</param>
public sealed record Sighting(
    Guid HeartbeatId, DateTimeOffset At, Guid SessionId, string SourceAddress, string? Endpoint, string? EndpointAddress);
