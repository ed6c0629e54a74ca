namespace Wirety.Events;

/// <summary>Who caused an event: the API token (or agent session) that acted, by id and display name.</summary>
public sealed record Actor(Guid TokenId, string Name)
{
    /// <summary>The server itself (bootstrap, automation).</summary>
    public static readonly Actor System = new(Guid.Empty, "system");
}
