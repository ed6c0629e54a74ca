import { describe, expect, it } from 'vitest';
import { enrollCommand, isLoopbackHost, needsInsecureHttp } from './enroll';

describe('the enroll command', () => {
  it('adds --insecure-http for a plain http server that is not on loopback', () => {
    expect(enrollCommand('http://wirety.example:8080', 'tok')).toBe('sudo wirety-agent enroll --server http://wirety.example:8080 --insecure-http --token tok');
    expect(enrollCommand('http://10.0.0.5', 'tok')).toContain(' --insecure-http ');
    expect(enrollCommand('http://[fd00::1]:8080', 'tok')).toContain(' --insecure-http ');
  });

  it('leaves it out for https and for plain http on loopback', () => {
    expect(enrollCommand('https://wirety.example', 'tok')).toBe('sudo wirety-agent enroll --server https://wirety.example --token tok');
    for (const server of ['http://127.0.0.1:8080', 'http://localhost:5173', 'http://LOCALHOST', 'http://127.1.2.3', 'http://[::1]:8080'])
      expect(enrollCommand(server, 'tok'), server).not.toContain('--insecure-http');
  });

  it('treats only localhost, 127.0.0.0/8 and ::1 as loopback (as the agent does)', () => {
    expect(isLoopbackHost('localhost')).toBe(true);
    expect(isLoopbackHost('127.0.0.1')).toBe(true);
    expect(isLoopbackHost('[::1]')).toBe(true);
    expect(isLoopbackHost('localhost.example')).toBe(false);
    expect(isLoopbackHost('128.0.0.1')).toBe(false);
    expect(isLoopbackHost('127.0.0.1.example')).toBe(false);
    expect(needsInsecureHttp('not a url')).toBe(false);
  });
});
