namespace Wirety.Server.Auth;

/// <summary>How an endpoint keeps a caller whose role is limited to some networks (see <see cref="NetworkScope"/>) inside them.</summary>
public enum ScopeRule
{
    /// <summary>
    /// The route's <c>{networkId}</c> names the network: outside the caller's networks the endpoint answers the 404
    /// of a network that does not exist, before the handler runs (<see cref="ProblemAuthorizationResultHandler"/>).
    /// Implied by a <c>{networkId}</c> route parameter; never written on an endpoint.
    /// </summary>
    RouteNetwork,
    /// <summary>
    /// The endpoint spans networks and its handler narrows what it reads to the caller's networks (lists, the event
    /// stream, the live channel, incidents by id). Each such endpoint has a scoped test of its own.
    /// </summary>
    FilteredByHandler,
    /// <summary>Not about one network (tokens, users, creating a network): a role limited to networks gets a 403.</summary>
    EveryNetworkOnly,
}

/// <summary>
/// The <see cref="ScopeRule"/> of an endpoint without a <c>{networkId}</c> route parameter. A test requires it on
/// every such <see cref="RequiresRoleAttribute"/> endpoint; at run time one without it is <see cref="ScopeRule.EveryNetworkOnly"/>
/// (fail closed).
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class ScopedAttribute(ScopeRule rule) : Attribute
{
    public ScopeRule Rule { get; } = rule;

    public const string NetworkRouteValue = "networkId";

    /// <summary>The rule an endpoint follows: the route's network, its attribute, or (none) every-network-only.</summary>
    public static ScopeRule RuleOf(Endpoint endpoint) =>
        endpoint is RouteEndpoint route && route.RoutePattern.GetParameter(NetworkRouteValue) is not null ? ScopeRule.RouteNetwork
        : endpoint.Metadata.GetMetadata<ScopedAttribute>()?.Rule ?? ScopeRule.EveryNetworkOnly;
}
