using Wirety.Events.Tokens;

namespace Wirety.Server.Auth;

/// <summary>
/// The least API-token role an endpoint needs (viewer &lt; analyst &lt; admin), on the endpoint itself: admin
/// for every write, configs (they reveal the mesh's keys and topology) and tokens; analyst for the event
/// stream and the timeline; viewer for the rest. Every
/// endpoint carries exactly one rule: this, <c>[AllowAnonymous]</c> (health probes; enrollment, where the
/// one-time token is the credential) or the agent session policy — a test enumerates the mapped endpoints.
/// An API-token endpoint without it is admin-only at run time (fail closed for the read-only roles).
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class RequiresRoleAttribute(ApiTokenRole role) : Attribute
{
    public ApiTokenRole Role { get; } = role;

    public bool Allows(ApiTokenRole role) => Role switch
    {
        ApiTokenRole.Viewer => true,
        ApiTokenRole.Analyst => role is ApiTokenRole.Analyst or ApiTokenRole.Admin,
        _ => role is ApiTokenRole.Admin,
    };

    public string Describe() => Role switch
    {
        ApiTokenRole.Viewer => "an API token",
        ApiTokenRole.Analyst => "an analyst or admin token",
        _ => "an admin token",
    };
}
