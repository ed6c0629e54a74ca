// Policy port rules, checked in the browser with the server's grammar (Wirety.Events PortRange.TryParse):
// `tcp/22`, `tcp/8000-8100`, `udp/53`, `tcp` or `udp` (every port), `icmp`. Lower case, no leading zeros,
// ports 1–65535, a range never backwards. The server stays the judge; this only saves a round trip.

export const MAX_PORT = 65535;
export type PortRule = { ok: true; text: string } | { ok: false; error: string };

const hint = 'use tcp/22, tcp/8000-8100, udp/53, tcp, udp or icmp';

function port(text: string): number | null {
  if (!/^[1-9][0-9]{0,4}$/.test(text)) return null; // digits only, no sign, no leading zero
  const n = Number(text);
  return n <= MAX_PORT ? n : null;
}

/** Parses one rule; `text` is the canonical spelling (`tcp/22-22` → `tcp/22`, `tcp/1-65535` → `tcp`). */
export function parsePortRule(raw: string): PortRule {
  const text = raw.trim();
  if (!text || text.length > 20) return { ok: false, error: `'${text}' is not a port rule: ${hint}.` };
  const slash = text.indexOf('/');
  const name = slash < 0 ? text : text.slice(0, slash);
  if (name !== 'tcp' && name !== 'udp' && name !== 'icmp')
    return { ok: false, error: `'${text}' is not a port rule: the protocol must be tcp, udp or icmp (lower case).` };
  if (slash < 0) return { ok: true, text: name };
  if (name === 'icmp') return { ok: false, error: `'${text}' is not a port rule: icmp has no ports.` };
  const ports = text.slice(slash + 1);
  const dash = ports.indexOf('-');
  const from = port(dash < 0 ? ports : ports.slice(0, dash));
  const to = port(dash < 0 ? ports : ports.slice(dash + 1));
  if (from === null || to === null)
    return { ok: false, error: `'${text}' is not a port rule: ports are numbers from 1 to ${MAX_PORT}, one (tcp/22) or a range (tcp/8000-8100).` };
  if (from > to) return { ok: false, error: `'${text}' is not a port rule: the range runs backwards.` };
  if (from === 1 && to === MAX_PORT) return { ok: true, text: name };
  return { ok: true, text: from === to ? `${name}/${from}` : `${name}/${from}-${to}` };
}

/** How a pair's or policy's ports read: empty means everything. */
export const portsText = (ports: string[]) => (ports.length ? ports.join(', ') : 'all ports');
