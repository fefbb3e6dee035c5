// Every visible word is Chinese and meant for people (issue 14, item 1): signed in as each role,
// every GET page the role may open — taken from the page permission table itself
// (`xietong pages` prints crates/web/src/policy.rs PAGES), `{id}` replaced by the ids of demo
// records found in the links of the pages already visited — must show no code: no `snake_case`
// identifier, no bare lowercase English word (`pending`, `leader`, `remind`), no Rust/axum error
// text, no raw JSON. Allowed ASCII: numbers, dates, 文号, units (km, MB), file names, URLs and the
// names people use (OFD, PDF, Excel, Word, GB/T, SM3 …); an account's login name only where the page
// says it is one (an element marked `data-login`, e.g. the 账号 column of 组织机构).
// Unknown paths and bad ids must answer a Chinese page with a way back (/api: Chinese JSON).
//
// A failure lists every page and the offending text. Run alone (from the repository root):
//   XIETONG_BIN=$PWD/target/debug/xietong node --test tests/browser/labels.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ARTIFACTS, api, apiLogin, browserLogin, env, startServerAndBrowser, stopAll } from './harness.mjs';

/** One demo account per role (the leader twice: the 区长 and a 副区长 with a 分包 area). */
const ACCOUNTS = [
  { user: 'duchaju', role: 'supervisor' },
  { user: 'quzhang', role: 'leader' },
  { user: 'fqz_cj', role: 'leader' },
  { user: 'jsj_lly', role: 'liaison' },
  { user: 'jsj_dlk', role: 'responsible' },
  { user: 'kejiju', role: 'tech_bureau' },
  { user: 'admin', role: 'admin' },
  { user: 'qiye', role: 'enterprise' },
  { user: 'gaoxiao', role: 'institution' },
  { user: 'anquan', role: 'security_admin' },
  { user: 'shenji', role: 'audit_admin' },
  { user: 'zuzhibu', role: 'org_dept' },
];

/** Records of one templated route visited per account (the first ones its pages link to). */
const PER_ROUTE = 2;

/** Words of ASCII letters that people read as words, not codes. Compared case-sensitively. */
const ALLOWED_WORDS = new Set([
  'OFD', 'PDF', 'Excel', 'Word', 'WPS', 'GB', 'T', 'SM3', 'SM4', 'CSV', 'TSV', 'UTF', 'GBK', 'EXIF', 'GPS',
  'ID', 'km', 'm', 'MB', 'KB', 'GB', 'kB', 'A4', 'docx', 'xlsx', 'xls', 'csv', 'tsv', 'pdf', 'ofd', 'jpg', 'png',
  'x', 'X',
]);

/** Rust, axum, serde and sqlx error texts (their start) that must never reach a person. */
const ERROR_TEXTS = [
  /Invalid URL/i, /Cannot parse/i, /Failed to deserialize/i, /missing field/i, /invalid type/i, /unknown variant/i,
  /panicked/i, /called `/, /Internal Server Error/i, /Not Found/, /Bad Request/, /Method Not Allowed/,
  /error returned from database/i, /no rows returned/i, /Unprocessable Entity/i, /Payload Too Large/i,
];

/**
 * The offending pieces of one page's visible text: each a short quote with its reason. Text of
 * elements marked `data-login` (a login name shown as such) or `data-record` (a record's own words
 * quoted) is left out before this is called.
 */
export function codesIn(text) {
  const found = [];
  const quote = (i, n) => text.slice(Math.max(0, i - 12), Math.min(text.length, i + n + 12)).replace(/\s+/g, ' ');
  for (const re of ERROR_TEXTS) {
    const m = re.exec(text);
    if (m) found.push(`错误原文「${quote(m.index, m[0].length)}」`);
  }
  for (const m of text.matchAll(/[{[]\s*"[A-Za-z_]/g)) found.push(`JSON「${quote(m.index, 20)}」`);
  // URLs, e-mail addresses and file names are what they are.
  const cleaned = text
    .replace(/\b(?:https?|ftp):\/\/\S+/g, ' ')
    .replace(/\S+@\S+\.\S+/g, ' ')
    .replace(/[\p{L}\p{N}_\-.（）()]+\.(?:docx|xlsx|xls|csv|tsv|pdf|ofd|jpg|jpeg|png|zip|doc|txt|wps)\b/giu, ' ')
    .replace(/(?:^|\s)\/[\w\-/{}.?=&%]+/g, ' ');
  for (const m of cleaned.matchAll(/[A-Za-z][A-Za-z0-9_]*(?:[.:][a-z][a-z0-9_]*)*/g)) {
    const w = m[0];
    const i = m.index;
    // Letters glued to digits (a credit code, a patent number, A4, 3D) are identifiers people use.
    if (/\d/.test(w) && !w.includes('_')) continue;
    const prev = cleaned[i - 1] || '';
    const next = cleaned[i + w.length] || '';
    if (/[\d]/.test(prev) || /\d/.test(next)) {
      // A unit after a number (3 km, 20 MB) or a letter inside a code (91410100MA…).
      if (!w.includes('_')) continue;
    }
    if (w.includes('_')) {
      found.push(`代码「${w}」（…${cleanedQuote(cleaned, i, w.length)}…）`);
    } else if (/^[a-z]{2,}(?:[.:][a-z]+)*$/.test(w) && !ALLOWED_WORDS.has(w)) {
      // A bare lowercase word: a status, role or kind code (pending, leader, remind, tantivy).
      found.push(`英文词「${w}」（…${cleanedQuote(cleaned, i, w.length)}…）`);
    }
  }
  return [...new Set(found)];
}

function cleanedQuote(s, i, n) {
  return s.slice(Math.max(0, i - 12), Math.min(s.length, i + n + 12)).replace(/\s+/g, ' ');
}

/** The page table as `xietong pages` prints it. */
function pageTable() {
  const out = execFileSync(process.env.XIETONG_BIN, ['pages'], { encoding: 'utf8' });
  return JSON.parse(out);
}

/** The route's path as a pattern over concrete paths: `{id}` is a number, other parts literal. */
function routePattern(route) {
  const parts = route.split(/\{[^}]+\}/).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('(\\d+)')}$`);
}

/** The visible text of the page (with `data-login` elements blanked) and its links and placeholders. */
async function readPage(page) {
  return page.evaluate(() => {
    // A login name shown as such, and a record's own words quoted (an abstract's "20 min", "mg/L").
    for (const el of document.querySelectorAll('[data-login], [data-record]')) el.textContent = '';
    const placeholders = [...document.querySelectorAll('[placeholder]')].map((e) => e.getAttribute('placeholder'));
    const titles = [...document.querySelectorAll('[title]')].map((e) => e.getAttribute('title'));
    const links = [...document.querySelectorAll('a[href]')]
      .map((a) => a.getAttribute('href'))
      .filter((h) => h.startsWith('/'));
    return {
      text: `${document.title}\n${document.body ? document.body.innerText : ''}`,
      extra: [...placeholders, ...titles].join('\n'),
      links,
    };
  });
}

/** Every failure of every account: { user, path, status, found }. */
const failures = [];
/** Every visit: { user, path, status, html }. Written to artifacts/labels.json. */
const visits = [];
/** Templated routes visited at least once by anyone. */
const templatedSeen = new Set();

before(async () => {
  await startServerAndBrowser();
});

after(async () => {
  await writeFile(path.join(ARTIFACTS, 'labels.json'), JSON.stringify({ visits, failures }, null, 1)).catch(() => {});
  await stopAll();
});

test('codesIn finds the codes of issue 14 and lets legitimate ASCII pass', () => {
  for (const bad of [
    '状态 pending', '环节 remind', '通报预警 notice_warning', '角色 leader', 'Invalid URL: Cannot parse `abc` to a `i64`',
    '变更后 {"status":"closed"}', '文本检索（结巴分词 + tantivy）',
  ]) {
    assert.ok(codesIn(bad).length > 0, `not flagged: ${bad}`);
  }
  for (const good of [
    '郑政〔2026〕12 号', '2026-11-25 09:30', '距任务地点 3.2 km', '导出 Excel', '上传 OFD、PDF 或 Word 文件',
    'GB/T 4754-2017', '统一社会信用代码 91410100MA44XXXX0K', '附件 通报.docx', '见 https://example.org/a_b',
    '上限 20 MB', 'SM3 链式校验通过', '完成 62.7%',
  ]) {
    assert.deepEqual(codesIn(good), [], `flagged: ${good}`);
  }
});

for (const acc of ACCOUNTS) {
  test(`${acc.user}（${acc.role}）: every page it may open shows no code`, { timeout: 600_000 }, async () => {
    const table = pageTable().filter(
      (r) => r.method === 'GET' && r.path !== '/login'
        && (r.roles === 'public' || (Array.isArray(r.roles) && r.roles.includes(acc.role))),
    );
    assert.ok(table.length > 0, `the page table gives ${acc.role} no page`);
    const fixed = table.filter((r) => !r.path.includes('{'));
    const templated = table.filter((r) => r.path.includes('{'));
    const { context, page } = await browserLogin(acc.user, acc.role === 'security_admin' ? '/online'
      : acc.role === 'audit_admin' ? '/audit' : acc.role === 'org_dept' ? '/cadres' : '/todo');
    const seenLinks = new Set();
    const visit = async (p, route) => {
      // Files (.docx, attachments) download rather than load: ask first what the answer is.
      const head = await page.request.get(p);
      const html = (head.headers()['content-type'] || '').startsWith('text/html');
      visits.push({ user: acc.user, path: p, route, status: head.status(), html });
      if (!html) return;
      const res = await page.goto(p);
      const status = res?.status() ?? 0;
      const { text, extra, links } = await readPage(page);
      links.forEach((l) => seenLinks.add(l.split(/[?#]/)[0]));
      const found = [...codesIn(text), ...codesIn(extra).map((f) => `提示文字中的${f}`)];
      if (status >= 500) found.push(`服务器错误 ${status}`);
      if (found.length > 0) failures.push({ user: acc.user, path: p, status, found });
    };
    for (const r of fixed) await visit(r.path, r.path);
    // Templated routes: the records the pages visited link to, list pages first; a record page may
    // link to further records (a notice's task), so go round until nothing new turns up.
    const done = new Set();
    for (let round = 0; round < 3; round++) {
      let more = false;
      for (const r of templated) {
        const re = routePattern(r.path);
        const hits = [...seenLinks].filter((l) => re.test(l) && !done.has(l));
        const already = [...done].filter((l) => re.test(l)).length;
        for (const l of hits.slice(0, Math.max(0, PER_ROUTE - already))) {
          done.add(l);
          more = true;
          templatedSeen.add(r.path);
          await visit(l, r.path);
        }
      }
      if (!more) break;
    }
    // Bad ids and unknown paths: a Chinese page (400 / 404) with a way back to 待办.
    // (/inbox/{id} is open to every role.)
    const bad = [['/inbox/abc', 400], ['/no-such-page', 404], ['/inbox/99999999', 404]];
    if (table.some((r) => r.path === '/tasks/{id}')) bad.push(['/tasks/abc', 400], ['/tasks/99999999', 404]);
    for (const [p, want] of bad) {
      const res = await page.goto(p);
      const { text, links } = await readPage(page);
      const found = codesIn(text);
      if (res?.status() !== want) found.push(`应答 ${res?.status()}，应为 ${want}`);
      if (!/[\u4e00-\u9fff]/.test(text)) found.push('页面没有中文说明');
      if (!links.includes('/todo')) found.push('页面没有回到待办的链接');
      if (found.length > 0) failures.push({ user: acc.user, path: p, status: res?.status(), found });
      visits.push({ user: acc.user, path: p, route: p, status: res?.status(), html: true });
    }
    await context.close();
    const mine = failures.filter((f) => f.user === acc.user);
    assert.equal(
      mine.length,
      0,
      `${acc.user}: ${mine.length} 个页面显示了代码或英文：\n` +
        mine.map((f) => `  ${f.path} (${f.status}): ${f.found.join('；')}`).join('\n'),
    );
  });
}

test('the API answers bad ids and unknown routes in Chinese JSON', async () => {
  const token = await apiLogin('duchaju');
  for (const [p, want] of [['/api/tasks/abc', 400], ['/api/no-such-route', 404]]) {
    const r = await api('GET', p, { token });
    assert.equal(r.status, want, `${p}: ${r.status} ${r.text}`);
    assert.ok(r.body && typeof r.body.error === 'string', `${p} is not the JSON error shape: ${r.text}`);
    assert.match(r.body.error, /[\u4e00-\u9fff]/, `${p}: ${r.body.error}`);
    assert.deepEqual(codesIn(r.body.error), [], `${p}: ${r.body.error}`);
  }
});

test('every templated page route was visited with a demo record', () => {
  // Files (attachments, .docx, calendar feeds) are not pages, nor are the sign-on steps under /login/; every
  // other templated route must have been reached.
  const pages = new Set(
    pageTable()
      .filter((r) => r.method === 'GET' && r.path.includes('{'))
      .map((r) => r.path)
      .filter((p) => !/attachments|\.docx$|^\/feeds\/|^\/login\//.test(p)),
  );
  const missing = [...pages].filter((p) => !templatedSeen.has(p));
  assert.deepEqual(missing, [], `no demo record reached for ${missing.join(', ')} (base URL ${env.baseURL})`);
});
