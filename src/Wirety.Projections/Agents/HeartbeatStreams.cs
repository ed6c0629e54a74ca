using System.Security.Cryptography;
using System.Text;

namespace Wirety.Projections.Agents;

/// <summary>
/// Heartbeats go to one stream per peer, never to the network stream, so their volume never contends
/// with admin writes. The stream id is derived from the peer id (stable across rebuilds and instances).
/// </summary>
public static class HeartbeatStreams
{
    public static Guid For(Guid peerId)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes("wirety-heartbeats:" + peerId.ToString("N")));
        hash[6] = (byte)((hash[6] & 0x0F) | 0x80); // version 8 (custom), RFC 9562
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80); // variant
        return new Guid(hash.AsSpan(0, 16), bigEndian: true);
    }
}
