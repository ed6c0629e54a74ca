namespace Wirety.Events.Peers;

public enum PeerKind
{
    /// <summary>Has a public endpoint; relays and NATs for the others.</summary>
    Jump,
    /// <summary>Managed by an agent that holds its own key.</summary>
    Dynamic,
    /// <summary>No agent: a downloadable wg-quick config whose key the server generated once.</summary>
    Static,
}
