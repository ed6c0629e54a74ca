import { describe, expect, it } from 'vitest';
import { parsePortRule } from './ports';

const ok = (text: string) => parsePortRule(text);

describe('port rules (the server grammar: tcp|udp[/port[-port]] or icmp)', () => {
  it('accepts one port, a range, a whole protocol and icmp, in canonical spelling', () => {
    expect(['tcp/22', 'udp/53', 'tcp/8000-8100', 'tcp', 'udp', 'icmp', ' tcp/443 '].map(t => ok(t)))
      .toEqual(['tcp/22', 'udp/53', 'tcp/8000-8100', 'tcp', 'udp', 'icmp', 'tcp/443'].map(text => ({ ok: true, text })));
    expect(ok('tcp/22-22')).toEqual({ ok: true, text: 'tcp/22' });
    expect(ok('udp/1-65535')).toEqual({ ok: true, text: 'udp' });
  });

  it('refuses what the server refuses, saying why', () => {
    const error = (t: string) => { const r = parsePortRule(t); return r.ok ? null : r.error; };
    expect(error('TCP/22')).toMatch(/protocol must be tcp, udp or icmp/);
    expect(error('sctp/9')).toMatch(/protocol must be/);
    expect(error('icmp/8')).toMatch(/icmp has no ports/);
    for (const t of ['tcp/0', 'tcp/65536', 'tcp/99999', 'tcp/022', 'tcp/+22', 'tcp/', 'tcp/22-', 'tcp/a', 'tcp/1-2-3'])
      expect(error(t), t).toMatch(/numbers from 1 to 65535/);
    expect(error('tcp/100-90')).toMatch(/runs backwards/);
    expect(error('')).toMatch(/not a port rule/);
    expect(error('tcp/1-65535000000000')).toMatch(/not a port rule/);
  });
});
