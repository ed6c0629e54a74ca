// The command the UI shows for enrolling an agent. The agent refuses a plain http:// server that is not on loopback
// unless it is given --insecure-http (src/Wirety.Agent/Running/RunDecisions.cs, PlainHttpRefusal), so the command
// carries that flag exactly then: copied as shown, it works, and the flag says out loud that the tokens and configs
// will cross the network unencrypted.

/** Whether a URL's host is loopback as .NET's Uri.IsLoopback sees it: localhost, 127.0.0.0/8 or ::1. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  if (host === 'localhost' || host === '::1' || host === '0:0:0:0:0:0:0:1') return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Whether the agent needs --insecure-http to talk to `server` (plain http:// to a host that is not loopback). */
export function needsInsecureHttp(server: string): boolean {
  let url: URL;
  try { url = new URL(server); } catch { return false; }
  return url.protocol === 'http:' && !isLoopbackHost(url.hostname);
}

/** `sudo wirety-agent enroll --server <server> [--insecure-http] --token <token>`. */
export const enrollCommand = (server: string, token: string) =>
  `sudo wirety-agent enroll --server ${server}${needsInsecureHttp(server) ? ' --insecure-http' : ''} --token ${token}`;
