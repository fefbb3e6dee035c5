// Shared harness of the browser tests: starts `$XIETONG_BIN serve --demo` on a free loopback port
// with a fresh data directory and Debian's chromium through playwright-core, and offers the API and
// page helpers every test file uses. Each test file starts its own server.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, rm, access } from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ARTIFACTS = path.join(HERE, 'artifacts');
const CHROMIUM = process.env.XIETONG_CHROMIUM || '/usr/bin/chromium';
export const PASSWORD = 'Xietong@2026';
const READY_TIMEOUT_MS = 60_000;
export const TEST_TIMEOUT_MS = 120_000;

/** The running server and browser, shared by the helpers below. */
export const env = {
  /** @type {import('node:child_process').ChildProcess | null} */
  server: null,
  serverLog: '',
  serverExit: null, // a promise that resolves to a description when the server exits
  dataDir: null,
  baseURL: null,
  /** @type {import('playwright-core').Browser | null} */
  browser: null,
};

/** The local date/time in UTC+8 (the server's local time), as 'YYYY-MM-DD HH:MM'. */
export function beijingNow() {
  return new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 16).replace('T', ' ');
}

export function beijingToday() {
  return beijingNow().slice(0, 10);
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function tail(s, n = 4000) {
  return s.length > n ? '…' + s.slice(-n) : s;
}

/** A JSON API call. Returns { status, body, text }; body is the parsed JSON or null. */
export async function api(method, urlPath, { token, body } = {}) {
  const headers = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(env.baseURL + urlPath, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    redirect: 'manual',
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  return { status: res.status, body: parsed, text };
}

/** An API call that must answer `expected`; returns the parsed body. */
export async function apiOk(method, urlPath, opts = {}, expected = [200]) {
  const r = await api(method, urlPath, opts);
  assert.ok(
    expected.includes(r.status),
    `${method} ${urlPath} answered ${r.status} (expected ${expected.join('/')}): ${tail(r.text, 1000)}`,
  );
  return r.body;
}

export async function apiLogin(username) {
  const body = await apiOk('POST', '/api/session', { body: { username, password: PASSWORD } });
  assert.ok(body && typeof body.token === 'string' && body.token.length > 0, `no token for ${username}: ${JSON.stringify(body)}`);
  return body.token;
}


/**
 * A fresh browser context signed in as `username` through the login page. `contextOptions` are
 * playwright's (e.g. a phone's viewport, `isMobile`, `hasTouch`); the default is a 1280×900 desktop.
 */
export async function browserLogin(username, landing = '/todo', contextOptions = {}) {
  const context = await env.browser.newContext({
    baseURL: env.baseURL,
    locale: 'zh-CN',
    viewport: { width: 1280, height: 900 },
    ...contextOptions,
  });
  context.setDefaultTimeout(20_000);
  context.setDefaultNavigationTimeout(30_000);
  const page = await context.newPage();
  const res = await page.goto('/login');
  assert.equal(res?.status(), 200, `GET /login answered ${res?.status()}`);
  await page.locator('input[name=username]').fill(username);
  await page.locator('input[name=password]').fill(PASSWORD);
  await submitAndWait(page, page.locator('form:has(input[name=username]) button[type=submit]').first());
  const url = new URL(page.url());
  if (url.pathname !== landing) {
    const flash = await page.locator('.flash').allTextContents().catch(() => []);
    assert.fail(`login as ${username} ended at ${page.url()}, not ${landing}; messages: ${JSON.stringify(flash)}`);
  }
  return { context, page };
}

/**
 * Click a submit button and wait until a new document has loaded (a form POST, its redirect and
 * the page it lands on). Works when the new page has the same URL as the old one.
 */
export async function submitAndWait(page, button) {
  const marker = `xt-${Math.random()}`;
  await page.evaluate((m) => {
    window.__xtDocument = m;
  }, marker);
  await button.click();
  await page.waitForFunction((m) => window.__xtDocument !== m && document.readyState === 'complete', marker, {
    timeout: 30_000,
  });
}


export async function errorFlashes(page) {
  return page.locator('.flash.error').allTextContents();
}

/** Start the server on the demo data and the browser; call from `before`. */
export async function startServerAndBrowser() {
  const bin = process.env.XIETONG_BIN;
  assert.ok(bin, 'set XIETONG_BIN to the xietong binary (e.g. XIETONG_BIN=$PWD/target/debug/xietong)');
  await access(bin, fsConstants.X_OK).catch(() => assert.fail(`XIETONG_BIN=${bin} is not an executable file`));
  await access(CHROMIUM, fsConstants.X_OK).catch(() =>
    assert.fail(`${CHROMIUM} is missing: apt-get install chromium (scripts/test.sh does it)`),
  );

  env.dataDir = await mkdtemp(path.join(os.tmpdir(), 'xietong-browser-'));
  const port = await freePort();
  env.baseURL = `http://127.0.0.1:${port}`;

  env.server = spawn(bin, ['serve', '--demo', '--bind', `127.0.0.1:${port}`, '--data-dir', env.dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'info' },
  });
  const keep = (chunk) => {
    env.serverLog += chunk.toString();
    if (env.serverLog.length > 200_000) env.serverLog = env.serverLog.slice(-100_000);
  };
  env.server.stdout.on('data', keep);
  env.server.stderr.on('data', keep);
  env.serverExit = new Promise((resolve) => {
    env.server.on('exit', (code, signal) => resolve(`exited with ${signal ? `signal ${signal}` : `code ${code}`}`));
    env.server.on('error', (e) => resolve(`could not start: ${e.message}`));
  });

  // Poll /health until it answers "ok"; fail at once if the process dies.
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let exited = null;
  env.serverExit.then((why) => {
    exited = why;
  });
  let lastError = '';
  for (;;) {
    if (exited) assert.fail(`xietong serve ${exited} before it was ready; its output:\n${tail(env.serverLog)}`);
    if (Date.now() > deadline) {
      assert.fail(`xietong serve was not ready within ${READY_TIMEOUT_MS / 1000} s (last: ${lastError}); its output:\n${tail(env.serverLog)}`);
    }
    try {
      const res = await fetch(`${env.baseURL}/health`, { signal: AbortSignal.timeout(2_000) });
      const text = (await res.text()).trim();
      if (res.status === 200 && text === 'ok') break;
      lastError = `${res.status} ${text.slice(0, 100)}`;
    } catch (e) {
      lastError = e.cause?.code || e.message;
    }
    await sleep(250);
  }

  env.browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  await mkdir(ARTIFACTS, { recursive: true });
}

export async function stopAll() {
  await env.browser?.close().catch(() => {});
  if (env.server && env.server.exitCode === null && env.server.signalCode === null) {
    env.server.kill('SIGTERM');
    const stopped = await Promise.race([env.serverExit.then(() => true), sleep(5_000).then(() => false)]);
    if (!stopped) {
      env.server.kill('SIGKILL');
      await Promise.race([env.serverExit, sleep(5_000)]);
    }
  }
  if (env.dataDir) await rm(env.dataDir, { recursive: true, force: true }).catch(() => {});
}

// A test run that is interrupted must not leave the server behind.
process.on('exit', () => {
  if (env.server && env.server.exitCode === null && env.server.signalCode === null) env.server.kill('SIGKILL');
});


