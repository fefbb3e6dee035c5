// Browser test of 统一身份认证 (issue 16, item 3) against a real OpenID Connect provider: the npm
// package `oidc-provider`, started by this test on a local port with its development login and
// consent pages. The 安全管理员 registers it; a 联络员 signs in through it from the login page and
// lands on 我的待办 linked to his existing account; a name with no account, and an account whose unit
// the provider contradicts, are refused in Chinese on the login page; with passwords turned off for
// the 联络员 role the password no longer works and the provider still does; the login page and
// /sso fit a 390 px phone.
//
// Run alone (from the repository root, after `cargo build -p xietong`):
//   XIETONG_BIN=$PWD/target/debug/xietong node --test tests/browser/signon.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Provider from 'oidc-provider';
import {
  PASSWORD, TEST_TIMEOUT_MS, env, apiLogin, apiOk, browserLogin, errorFlashes, freePort, startServerAndBrowser,
  stopAll, submitAndWait,
} from './harness.mjs';

/** The units the provider says people belong to: slj_lly's is deliberately wrong. */
const UNITS = { jsj_lly: '建设和交通局', slj_lly: '建设和交通局', nobody: '水利局' };

let idp = null;
let providerId = null;

before(async () => {
  await startServerAndBrowser();
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const token = await apiLogin('anquan');
  const created = await apiOk('POST', '/api/sso/providers', {
    token,
    body: {
      name: '政务统一身份认证',
      config: {
        kind: 'oidc', issuer, client_id: 'xietong', client_secret: 'xietong-test-secret-0123456789abcdef',
        unit_claim: 'unit',
      },
    },
  }, [201]);
  providerId = created.id;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: 'xietong',
      client_secret: 'xietong-test-secret-0123456789abcdef',
      redirect_uris: [`${env.baseURL}/login/sso/${providerId}/callback`],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    }],
    cookies: { keys: ['signon-test-cookie-key'] },
    claims: { openid: ['sub'], profile: ['preferred_username', 'name', 'unit'] },
    findAccount: async (ctx, id) => ({
      accountId: id,
      claims: async () => ({ sub: `sub-${id}`, preferred_username: id, name: `${id}（示例）`, unit: UNITS[id] ?? '' }),
    }),
  });
  idp = provider.listen(port);
});

after(async () => {
  idp?.close();
  await stopAll();
});

/** From the login page through the provider's login and consent pages, as `login`. */
async function signInThroughProvider(page, login) {
  const res = await page.goto('/login');
  assert.equal(res?.status(), 200);
  await page.locator('#sso-options a', { hasText: '政务统一身份认证' }).click();
  await page.locator('input[name=login]').waitFor();
  await page.locator('input[name=login]').fill(login);
  await page.locator('input[name=password]').fill('any');
  await page.locator('button[type=submit]').click();
  await page.locator('button', { hasText: 'Continue' }).click();
  await page.waitForURL((u) => u.origin === env.baseURL && !u.pathname.startsWith('/login/sso/') || /callback/.test(u.pathname));
  await page.waitForLoadState('load');
}

async function freshContext(viewport = { width: 1280, height: 900 }) {
  const context = await env.browser.newContext({ baseURL: env.baseURL, locale: 'zh-CN', viewport });
  context.setDefaultTimeout(20_000);
  return { context, page: await context.newPage() };
}

test('联络员经统一身份认证登录，首次按用户名绑定已有账号', { timeout: TEST_TIMEOUT_MS }, async () => {
  const { context, page } = await freshContext();
  try {
    await signInThroughProvider(page, 'jsj_lly');
    assert.equal(new URL(page.url()).pathname, '/todo', `ended at ${page.url()}: ${await errorFlashes(page)}`);
    const me = await page.evaluate(async () => (await fetch('/api/me')).json());
    assert.equal(me.username, 'jsj_lly');
    assert.equal(me.role, 'liaison');
  } finally {
    await context.close();
  }
  // The 安全管理员 sees the link, and the 连接测试 passes.
  const sec = await browserLogin('anquan', '/online');
  try {
    const page = sec.page;
    await page.goto('/sso');
    const row = page.locator('#links tr', { hasText: 'jsj_lly' });
    assert.equal(await row.count(), 1);
    await submitAndWait(page, page.locator('#providers button', { hasText: '连接测试' }));
    assert.deepEqual(await errorFlashes(page), []);
    assert.ok((await page.locator('.flash.ok').textContent()).includes('连接测试通过'));
  } finally {
    await sec.context.close();
  }
});

test('没有对应账号、单位不一致时拒绝登录并用中文说明', { timeout: TEST_TIMEOUT_MS }, async () => {
  for (const [login, words] of [['nobody', '在本系统没有对应账号'], ['slj_lly', '不一致']]) {
    const { context, page } = await freshContext();
    try {
      await signInThroughProvider(page, login);
      const errors = await errorFlashes(page);
      assert.ok(errors.some((e) => e.includes(words)), `${login}: ${JSON.stringify(errors)} at ${page.url()}`);
      const me = await page.evaluate(async () => (await fetch('/api/me')).status);
      assert.equal(me, 401, `${login} must not be signed in`);
    } finally {
      await context.close();
    }
  }
});

test('停用联络员角色的密码登录后，密码不能登录，统一身份认证仍可', { timeout: TEST_TIMEOUT_MS }, async () => {
  const sec = await browserLogin('anquan', '/online');
  try {
    const page = sec.page;
    await page.goto('/sso');
    await page.locator('#password-login input[value=liaison]').uncheck();
    await submitAndWait(page, page.locator('#password-login button[type=submit]'));
    assert.ok((await page.locator('.flash.ok').textContent()).includes('密码登录设置已保存'));
    assert.equal(await page.locator('#password-login input[value=liaison]').isChecked(), false);
    assert.equal(await page.locator('#password-login input[value=security_admin]').isChecked(), true);
  } finally {
    await sec.context.close();
  }
  const { context, page } = await freshContext();
  try {
    await page.goto('/login');
    await page.locator('input[name=username]').fill('gxj_lly');
    await page.locator('input[name=password]').fill(PASSWORD);
    await submitAndWait(page, page.locator('form:has(input[name=username]) button[type=submit]'));
    const errors = await errorFlashes(page);
    assert.ok(errors.some((e) => e.includes('已停用密码登录')), JSON.stringify(errors));
    await signInThroughProvider(page, 'jsj_lly');
    assert.equal(new URL(page.url()).pathname, '/todo');
  } finally {
    await context.close();
  }
  const token = await apiLogin('anquan');
  await apiOk('PUT', '/api/sso/password-login', { token, body: [{ role: 'liaison', allowed: true }] }, [204]);
});

test('登录页与统一身份认证页在 390 像素手机上不出现横向滚动', { timeout: TEST_TIMEOUT_MS }, async () => {
  const phone = { width: 390, height: 844 };
  const { context, page } = await freshContext(phone);
  try {
    await page.goto('/login');
    assert.ok(await page.locator('#sso-options').isVisible());
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390));
  } finally {
    await context.close();
  }
  const sec = await browserLogin('anquan', '/online', { viewport: phone, isMobile: true, hasTouch: true });
  try {
    await sec.page.goto('/sso');
    const width = await sec.page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `/sso is ${width} px wide at 390`);
  } finally {
    await sec.context.close();
  }
});
