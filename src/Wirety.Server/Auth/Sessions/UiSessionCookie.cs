namespace Wirety.Server.Auth.Sessions;

/// <summary>The UI session cookie and the CSRF header that cookie-authenticated writes must carry.</summary>
public static class UiSessionCookie
{
    public const string Name = "wirety_session";
    public const string CsrfHeader = "X-Wirety-CSRF";
    public const string CsrfClaim = "wirety:csrf";
    /// <summary>The session's id (the SHA-256 of the cookie, not the cookie): what outlives the request (the live channel) refers to it by.</summary>
    public const string SessionClaim = "wirety:session";
}
