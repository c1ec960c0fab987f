/**
 * The extension's connected-accounts client (lib/connected-accounts.ts) against the real IdP emulator and provider
 * emulator. Only the browser window is played over HTTP: `launchWebAuthFlow` follows the connect URL through the
 * provider's consent and returns the callback URL, which a test may tamper with the way an attacker could.
 * C5: a callback whose state, address or issuer does not match the flow aborts it before anything is completed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectError, ConnectedAccountsClient } from '../../lib/connected-accounts';
import { EXTENSION_REDIRECT_URI } from '../../lib/defaults';
import { type Harness, startHarness } from '../helpers/agent-harness';
import { consentInBrowser, myAccountToken } from '../helpers/connect-account';

let h: Harness;
let token: string;

function client(tamper: (callback: URL) => string = (u) => u.toString(), button: 'Allow' | 'Cancel' = 'Allow') {
  return new ConnectedAccountsClient({
    domain: h.idp.url,
    getToken: async () => token,
    identity: {
      getRedirectURL: () => EXTENSION_REDIRECT_URI,
      async launchWebAuthFlow({ url }) {
        const step = await consentInBrowser(url, button);
        if (step.kind !== 'callback') throw new Error(`the flow stopped at ${step.url}`);
        return tamper(step.url);
      },
    },
  });
}

const connectedNames = async () => (await client().list()).map((a) => a.connection);

beforeAll(async () => {
  h = await startHarness();
  token = await myAccountToken(h.idp.url, h.credentials('alice'));
});
afterAll(async () => h?.close());

describe('the side panel’s connect flow', () => {
  it('connects, lists and disconnects an account', async () => {
    const account = await client().connect('github', ['repo']);
    expect(account).toMatchObject({ connection: 'github' });
    expect(account.scopes).toContain('repo');
    expect(await connectedNames()).toEqual(['github']);
    await client().disconnect(account.id);
    expect(await connectedNames()).toEqual([]);
  });

  it('C5 a callback with another state is aborted and nothing is connected', async () => {
    const tampered = client((u) => {
      u.searchParams.set('state', 'an-attacker-state');
      return u.toString();
    });
    await expect(tampered.connect('github', ['repo'])).rejects.toMatchObject({ code: 'connect_callback_mismatch' });
    expect(await connectedNames()).toEqual([]);
  });

  it('C5 a callback to another address is aborted', async () => {
    const tampered = client((u) => u.toString().replace('chromiumapp.org/', 'chromiumapp.org/elsewhere'));
    await expect(tampered.connect('github', ['repo'])).rejects.toMatchObject({ code: 'connect_callback_mismatch' });
    expect(await connectedNames()).toEqual([]);
  });

  it('C5 a callback naming another issuer is aborted', async () => {
    const tampered = client((u) => {
      u.searchParams.set('iss', 'https://evil-tenant.example/');
      return u.toString();
    });
    await expect(tampered.connect('github', ['repo'])).rejects.toMatchObject({ code: 'connect_callback_mismatch' });
    expect(await connectedNames()).toEqual([]);
  });

  it('a connect code from another flow (with this flow’s state) is refused by the tenant', async () => {
    // An attacker's own finished flow supplies a connect code; the victim's callback is rewritten to carry it.
    const attacker = await myAccountToken(h.idp.url, h.credentials('bob'));
    let foreignCode = '';
    const bobClient = new ConnectedAccountsClient({
      domain: h.idp.url,
      getToken: async () => attacker,
      identity: {
        getRedirectURL: () => EXTENSION_REDIRECT_URI,
        async launchWebAuthFlow({ url }) {
          const step = await consentInBrowser(url);
          if (step.kind !== 'callback') throw new Error('no callback');
          foreignCode = step.url.searchParams.get('connect_code')!;
          throw new Error('the user closed the window');
        },
      },
    });
    await expect(bobClient.connect('github', ['repo'])).rejects.toBeInstanceOf(ConnectError);
    const tampered = client((u) => {
      u.searchParams.set('connect_code', foreignCode);
      return u.toString();
    });
    await expect(tampered.connect('github', ['repo'])).rejects.toMatchObject({ code: 'my_account_error', status: 400 });
    expect(await connectedNames()).toEqual([]);
  });

  it('cancelling at the provider is reported as cancelled', async () => {
    await expect(client(undefined, 'Cancel').connect('sign-in-with-slack', ['channels:read'])).rejects.toMatchObject({ code: 'connect_cancelled' });
  });
});
