// End-to-end harness: a throwaway PostgreSQL cluster (ops/pg/cluster.sh), the real server binary serving
// the built UI (frontend/dist), and Debian's headless Chromium driven by playwright-core. Everything is
// torn down in stop(), which the tests call from `after` so it also runs when a test fails.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync, existsSync, chmodSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import http from 'node:http';
import crypto from 'node:crypto';
import { chromium } from 'playwright-core';
import { createRequire } from 'node:module';

const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

export const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const artifacts = join(repo, 'artifacts', 'ui');
const cluster = join(repo, 'ops', 'pg', 'cluster.sh');
const serverDll = join(repo, 'src', 'Wirety.Server', 'bin', process.env.CONFIG || 'Release', 'net10.0', 'wirety-server.dll');
const webRoot = join(repo, 'frontend', 'dist');
const idpDll = join(repo, 'tests', 'Wirety.Tests.IdP', 'bin', process.env.CONFIG || 'Release', 'net10.0', 'Wirety.Tests.IdP.dll');
/** The test provider's UI client (tests/Wirety.Tests.IdP); its people sign in with the password "password". */
export const idpClient = { id: 'wirety-ui', secret: 'wirety-ui-secret-' + crypto.randomBytes(12).toString('hex') };
export const adminToken = 'wirety_e2e-admin-' + crypto.randomBytes(24).toString('hex');

export function freePort() {
  return new Promise((ok, fail) => {
    const s = net.createServer();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => ok(port)); });
  });
}

const sleep = ms => new Promise(r => setTimeout(r, ms));

/** Polls `probe` until it returns a truthy value (for conditions outside the page; in the page use locators). */
export async function eventually(probe, what, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try { const v = await probe(); if (v) return v; } catch (e) { last = e; }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await sleep(200);
  }
}

export class Harness {
  /** `oidc`: also start the test OpenID Connect provider and point the server at it (WIRETY_OIDC_*). */
  constructor({ oidc = false } = {}) { this.oidc = oidc; }
  tmp = mkdtempSync(join(tmpdir(), 'wirety-ui-e2e-'));
  idp = null;
  idpUrl = '';
  pgDir = join(this.tmp, 'pg');
  server = null;
  serverLog = [];
  cspViolations = [];
  browser = null;
  baseUrl = '';

  async start() {
    // An interrupted run still removes its server, cluster and temp dir.
    for (const signal of ['SIGINT', 'SIGTERM'])
      process.once(signal, () => { this.stop().finally(() => process.exit(130)); });
    if (!existsSync(join(webRoot, 'index.html'))) throw new Error(`no built UI in ${webRoot}: run \`npm run build\` first`);
    if (!existsSync(serverDll)) throw new Error(`no server build at ${serverDll}: run \`dotnet build src/Wirety.Server -c Release\` first`);
    if (!existsSync('/usr/bin/chromium')) throw new Error('no /usr/bin/chromium: run `ops/install-prereqs.sh --browser`');
    chmodSync(this.tmp, 0o755); // as root, cluster.sh runs PostgreSQL as `postgres`, which must reach the data dir
    const pgPort = await freePort();
    const run = (...args) => execFileSync(cluster, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    run('ensure', this.pgDir, String(pgPort));
    this.pgStarted = true;
    run('start', this.pgDir, String(pgPort));
    run('createdb', this.pgDir, String(pgPort), 'wirety');

    const port = await freePort();
    this.baseUrl = `http://127.0.0.1:${port}`;
    const oidcEnv = this.oidc ? await this.startIdentityProvider() : {};
    this.server = spawn('dotnet', [serverDll], {
      cwd: repo,
      env: {
        ...process.env,
        // The cluster wants its password (scram-sha-256); cluster.sh keeps it in a 0600 libpq password file.
        WIRETY_DB: `Host=127.0.0.1;Port=${pgPort};Database=wirety;Username=postgres;Passfile=${this.pgDir}.pgpass`,
        WIRETY_DATA_DIR: join(this.tmp, 'data'),
        WIRETY_ADMIN_TOKEN: adminToken,
        WIRETY_URLS: this.baseUrl,
        WIRETY_WEB_ROOT: webRoot,
        WIRETY_LOG_FORMAT: 'text',
        ...oidcEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = d => { this.serverLog.push(String(d)); if (this.serverLog.length > 400) this.serverLog.shift(); };
    this.server.stdout.on('data', keep);
    this.server.stderr.on('data', keep);
    const exited = new Promise(r => this.server.once('exit', code => r(code)));
    await Promise.race([
      eventually(async () => (await fetch(`${this.baseUrl}/readyz`)).ok, 'the server to be ready', 60_000),
      exited.then(code => { throw new Error(`the server exited (${code}):\n${this.serverLog.join('')}`); }),
    ]);

    mkdirSync(artifacts, { recursive: true });
    this.browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
    return this;
  }

  /** Starts tests/Wirety.Tests.IdP on a free loopback port; returns the server's WIRETY_OIDC_* settings for it. */
  async startIdentityProvider() {
    if (!existsSync(idpDll)) throw new Error(`no test provider build at ${idpDll}: run \`dotnet build tests/Wirety.Tests.IdP -c ${process.env.CONFIG || 'Release'}\` first`);
    const port = await freePort();
    this.idpUrl = `http://127.0.0.1:${port}/`;
    this.idp = spawn('dotnet', [idpDll, '--port', String(port), '--client-id', idpClient.id, '--client-secret', idpClient.secret,
      '--redirect-uri', `${this.baseUrl}/api/v1/auth/oidc/callback`], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    this.idpLog = [];
    const keep = d => { this.idpLog.push(String(d)); if (this.idpLog.length > 200) this.idpLog.shift(); };
    this.idp.stdout.on('data', keep);
    this.idp.stderr.on('data', keep);
    const exited = new Promise(r => this.idp.once('exit', code => r(code)));
    await Promise.race([
      eventually(async () => (await fetch(`${this.idpUrl}.well-known/openid-configuration`)).ok, 'the identity provider to answer', 60_000),
      exited.then(code => { throw new Error(`the identity provider exited (${code}):\n${this.idpLog.join('')}`); }),
    ]);
    return {
      WIRETY_OIDC_ISSUER: this.idpUrl,
      WIRETY_OIDC_CLIENT_ID: idpClient.id,
      WIRETY_OIDC_CLIENT_SECRET: idpClient.secret,
      WIRETY_OIDC_PROVIDER_NAME: 'Test IdP',
    };
  }

  async newPage({ dark = false, width = 1280, height = 860 } = {}) {
    const context = await this.browser.newContext({ viewport: { width, height }, colorScheme: dark ? 'dark' : 'light', baseURL: this.baseUrl });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: this.baseUrl });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    page.on('pageerror', e => console.error('page error:', e.message));
    // The server sends a Content-Security-Policy; anything the built UI does that it blocks is a bug.
    page.on('console', m => { if (/Content Security Policy/i.test(m.text())) { this.cspViolations.push(m.text()); console.error('CSP:', m.text()); } });
    return page;
  }

  async stop() {
    try { await this.browser?.close(); } catch { /* already gone */ }
    if (this.server && this.server.exitCode === null) {
      const exited = new Promise(r => this.server.once('exit', r));
      this.server.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000)]);
      if (this.server.exitCode === null) this.server.kill('SIGKILL');
    }
    if (this.idp && this.idp.exitCode === null) {
      const exited = new Promise(r => this.idp.once('exit', r));
      this.idp.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000)]);
      if (this.idp.exitCode === null) this.idp.kill('SIGKILL');
    }
    if (this.pgStarted) {
      try { execFileSync(cluster, ['stop', this.pgDir], { stdio: 'ignore' }); } catch { /* not running */ }
    }
    rmSync(this.tmp, { recursive: true, force: true });
  }

  // --- the API from node, as an admin script or an agent would use it ---

  async api(method, path, body, token = adminToken) {
    const r = await fetch(this.baseUrl + path, {
      method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${path} → ${r.status}: ${text}`);
    return text ? JSON.parse(text) : undefined;
  }

  /** Enrolls like wirety-agent: its own X25519 key pair, only the public key sent. */
  async enroll(token, hostname) {
    const { publicKey } = crypto.generateKeyPairSync('x25519');
    const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
    const r = await fetch(`${this.baseUrl}/api/v1/agent/enroll`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ token, publicKey: raw.toString('base64'), hostname }),
    });
    const text = await r.text();
    if (r.status !== 200 && r.status !== 201) throw new Error(`enroll → ${r.status}: ${text}`);
    return JSON.parse(text);
  }

  /** A heartbeat with the agent's session token, sent from the given loopback source address. */
  heartbeat(sessionToken, { hostname, listenPort = 51820, endpoints, from = '127.0.0.1' } = {}) {
    const url = new URL(this.baseUrl);
    const body = JSON.stringify({ hostname, listenPort, endpoints, uptimeSeconds: 60 });
    return new Promise((ok, fail) => {
      const req = http.request({
        host: url.hostname, port: url.port, path: '/api/v1/agent/heartbeat', method: 'POST', localAddress: from,
        headers: { Authorization: `Bearer ${sessionToken}`, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
      }, res => {
        let text = '';
        res.on('data', d => { text += d; });
        res.on('end', () => (res.statusCode === 204 ? ok() : fail(new Error(`heartbeat from ${from} → ${res.statusCode}: ${text}`))));
      });
      req.on('error', fail);
      req.end(body);
    });
  }
}

export async function shot(page, name) {
  // From the top: a full-page capture draws the sticky top bar where the page is scrolled to.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
}

/**
 * Accessibility check of what the page shows now (axe-core, WCAG 2 A/AA rules incl. colour contrast).
 * Returns the serious and critical violations as readable lines; the caller asserts there are none.
 */
export async function accessibilityProblems(page) {
  // Evaluated through the DevTools protocol rather than added as a <script> tag: the server's CSP (rightly)
  // refuses inline scripts, and the check must not weaken the policy the UI runs under.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(readFileSync(axePath, 'utf8') + '\n;void 0');
  const result = await page.evaluate(() => window.axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }));
  return result.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')}`);
}
