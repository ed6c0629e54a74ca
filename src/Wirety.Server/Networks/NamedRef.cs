namespace Wirety.Server.Networks;

/// <summary>A peer or group as other views name it: <c>{id, name}</c>.</summary>
public sealed record NamedRef(Guid Id, string Name);
