// Single sign-on end to end: the test OpenID Connect provider (tests/Wirety.Tests.IdP, a real OpenIddict server
// process), the real server pointed at it (WIRETY_OIDC_*), and Chromium clicking through the code flow.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Harness, adminToken, shot } from './harness.mjs';

const h = new Harness({ oidc: true });
let admin;

/** Clicks "Sign in with …" on Wirety's sign-in page and fills the provider's form. */
async function signInWithSso(page, username) {
  await page.getByRole('link', { name: 'Sign in with Test IdP' }).click();
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill('password');
  await page.getByRole('button', { name: 'Sign in' }).click();
}

describe('single sign-on', { concurrency: false }, () => {
  before(async () => {
    await h.start();
    admin = await h.newPage();
    await admin.goto('/');
    await admin.getByLabel('API token').fill(adminToken);
    await admin.getByRole('button', { name: 'Sign in' }).click();
    await admin.getByRole('heading', { name: 'Dashboard' }).waitFor();
  });
  after(async () => {
    if (admin) await shot(admin, 'sso-zz-last-state').catch(() => {});
    await h.stop();
  });

  test('Alice signs in at the provider and comes back to where she was; once an admin grants her a role, she is in', async () => {
    await h.api('POST', '/api/v1/networks', { name: 'corp', cidr: '10.50.0.0/24' });
    const alice = await h.newPage();
    try {
      await alice.goto('/networks');
      await alice.getByRole('link', { name: 'Sign in with Test IdP' }).waitFor();
      await shot(alice, 'sso-01-sign-in');
      await signInWithSso(alice, 'alice');
      // Back at Wirety, at the page she asked for, signed in by the session cookie.
      await alice.waitForURL(url => url.origin === h.baseUrl && url.pathname === '/networks');
      const cookie = (await alice.context().cookies()).find(c => c.name === 'wirety_session');
      assert.ok(cookie?.httpOnly, 'an HttpOnly session cookie');
      const noRole = alice.getByTestId('no-role');
      const nav = alice.getByRole('navigation', { name: 'Main' });
      // The first sign-in gives no role (unless the server maps the provider's groups to one).
      await noRole.or(nav).first().waitFor();
      if (await noRole.count()) {
        assert.match(await noRole.textContent(), /Signed in as Alice Admin; ask an admin for a role/);
        assert.equal(await nav.count(), 0, 'nothing else is shown');
        await shot(alice, 'sso-02-no-role');

        // The admin grants her the admin role on the users screen.
        await admin.goto('/users');
        const row = admin.locator('tr[data-user="Alice Admin"]');
        await row.getByText('u-alice').waitFor();
        await admin.getByRole('button', { name: 'Role of Alice Admin' }).click();
        const dialog = admin.getByRole('dialog', { name: 'Role of Alice Admin' });
        await dialog.getByLabel('Role', { exact: true }).selectOption('admin');
        await dialog.getByRole('button', { name: 'Save role' }).click();
        await row.getByTestId('role').getByText('admin').waitFor();
        await shot(admin, 'sso-03-users');
        await alice.reload();
      }
      await nav.waitFor();
      await alice.getByRole('link', { name: 'corp' }).waitFor();
      assert.match(await alice.getByTestId('identity').getAttribute('title'), /Signed in as Alice Admin/);
      await nav.getByRole('link', { name: 'Users' }).waitFor();
      await shot(alice, 'sso-04-signed-in');
      const me = await alice.evaluate(async () => (await fetch('/api/v1/me')).json());
      assert.equal(me.kind, 'user');
      assert.equal(me.name, 'Alice Admin');
      assert.equal(me.role, 'admin');
    } finally {
      await alice.context().close();
    }
  });

  test('Mallory, with Alice’s e-mail, is another user; disabled, she is refused', async () => {
    const mallory = await h.newPage();
    try {
      await mallory.goto('/');
      await signInWithSso(mallory, 'mallory');
      await mallory.getByTestId('no-role').getByText(/Signed in as Mallory; ask an admin for a role/).waitFor();

      await admin.goto('/users');
      const row = admin.locator('tr[data-user="Mallory"]');
      await row.getByText('u-mallory').waitFor();
      await row.getByTestId('email-shared').getByText('2 users share this e-mail').waitFor();
      await admin.getByRole('button', { name: 'Disable Mallory' }).click();
      await row.getByTestId('status').getByText('disabled').waitFor();
      await shot(admin, 'sso-05-users-shared-email');

      // Signing in again (no cookie left at Wirety or at the provider) is refused.
      await mallory.context().clearCookies();
      await mallory.goto('/');
      await signInWithSso(mallory, 'mallory');
      await mallory.getByRole('alert').getByText('Your account is disabled or was refused').waitFor();
      await shot(mallory, 'sso-06-refused');
    } finally {
      await mallory.context().close();
    }
  });
});
