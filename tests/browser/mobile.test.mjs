// Phone-first pages (issue 13, item 3): every page a 联络员, 责任人, leader, the 督查局, the 科技局 or an
// enterprise uses must fit a 390 px wide phone (no sideways scroll), the menu must be collapsed on a
// phone and open when tapped, the task page must put the forms the user can act on before the long
// tables, and on a desktop the grouped menus must open and their links work.
//
// The width is compared with the configured 390, not `innerWidth`: under mobile emulation the
// layout viewport grows with content wider than the screen, so `innerWidth` would hide the overflow.
//
// Screenshots (full page) go to tests/browser/artifacts/mobile/<account>/<page>.png, and the widths
// measured to tests/browser/artifacts/mobile/widths.json (git-ignored, like every artifact).
//
// Run alone (from the repository root, after `cargo build -p xietong`):
//   XIETONG_BIN=$PWD/target/debug/xietong node --test tests/browser/mobile.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  ARTIFACTS, TEST_TIMEOUT_MS, api, apiOk, apiLogin, browserLogin, beijingToday, startServerAndBrowser, stopAll,
} from './harness.mjs';

const WIDTH = 390;
const PHONE = {
  viewport: { width: WIDTH, height: 844 },
  screen: { width: WIDTH, height: 844 },
  isMobile: true,
  hasTouch: true,
  deviceScaleFactor: 2,
};
const SHOTS = path.join(ARTIFACTS, 'mobile');
/** The header bar of a phone page, menu closed, may take at most this many pixels. */
const MAX_BAR_HEIGHT = 64;

// Who may open which page (mirrors crates/web/src/policy.rs): the district's staff, the leadership
// (督导看板), the 产学研 platform's users.
const DISTRICT = ['admin', 'supervisor', 'leader', 'liaison', 'responsible', 'tech'];
const LEADERSHIP = ['admin', 'supervisor', 'leader'];
const PLATFORM = ['admin', 'supervisor', 'leader', 'tech', 'enterprise', 'institution'];

/** The demo accounts, one or two per role; `home` is where signing in lands. */
const ACCOUNTS = [
  { user: 'duchaju', role: 'supervisor', home: '/todo' },
  { user: 'quzhang', role: 'leader', home: '/todo' },
  { user: 'fqz_cj', role: 'leader', home: '/todo' },
  { user: 'jsj_lly', role: 'liaison', home: '/todo' },
  { user: 'jsj_dlk', role: 'responsible', home: '/todo' },
  { user: 'kejiju', role: 'tech', home: '/todo' },
  { user: 'admin', role: 'admin', home: '/todo' },
  { user: 'qiye', role: 'enterprise', home: '/todo' },
  { user: 'gaoxiao', role: 'institution', home: '/todo' },
  { user: 'anquan', role: 'security_admin', home: '/online' },
  { user: 'shenji', role: 'audit_admin', home: '/audit' },
  { user: 'zuzhibu', role: 'org_dept', home: '/cadres' },
];

/** Demo tasks with the most on their page (tables, sub-tasks, indicators). */
const FULL_TASKS = [1, 2, 10];

/** Every width measured: { user, page, path, scrollWidth, ok }. Written to widths.json at the end. */
const measured = [];

/** The pages an account opens: fixed paths plus one task, notice and problem it can see. */
async function pagesOf(acc) {
  const token = await apiLogin(acc.user);
  const pages = [];
  const add = (name, p) => pages.push({ name, path: p });
  if (DISTRICT.includes(acc.role)) {
    add('todo', '/todo');
    add('tasks', '/tasks');
    // The task of its first 待办 item (where it has something to do), and the demo's fullest
    // task pages when it may see them: 1 (道路综合改造, 标段 and sub-tasks), 2 (积水点整治, the
    // 建设和交通局's, with sub-tasks and reports), 10 (城镇新增就业, a 数值指标).
    const todo = await apiOk('GET', '/api/todo', { token });
    const ids = [];
    if (todo.length > 0) ids.push(todo[0].task.id);
    for (const id of FULL_TASKS) {
      if ((await api('GET', `/api/tasks/${id}`, { token })).status === 200) ids.push(id);
    }
    if (ids.length === 0) {
      const list = await apiOk('GET', '/api/tasks?per_page=1', { token });
      if (list.items.length > 0) ids.push(list.items[0].task.id);
    }
    for (const id of [...new Set(ids)]) add(`task-${id}`, `/tasks/${id}`);
    if (LEADERSHIP.includes(acc.role)) add('dashboard', '/dashboard');
    add('notices', '/notices');
    const notices = await apiOk('GET', '/api/notices', { token });
    if (notices.length > 0) add(`notice-${notices[0].id}`, `/notices/${notices[0].id}`);
    add('problems', '/problems');
    const problems = await apiOk('GET', '/api/problems', { token });
    if (problems.length > 0) add(`problem-${problems[0].id}`, `/problems/${problems[0].id}`);
  }
  if (PLATFORM.includes(acc.role)) {
    add('docking', '/docking');
    add('docking-problems', '/docking/problems');
    const problems = await apiOk('GET', '/api/tech-problems', { token });
    if (problems.length > 0) add(`docking-problem-${problems[0].id}`, `/docking/problems/${problems[0].id}`);
    add('dockings', '/docking/dockings');
    const dockings = await apiOk('GET', '/api/dockings', { token });
    if (dockings.length > 0) add(`docking-${dockings[0].id}`, `/docking/dockings/${dockings[0].id}`);
  }
  // Every account has its 消息中心, and the platform's users their 待办 of records.
  add('inbox', '/inbox');
  add('notify-me', '/notify/me');
  if (acc.role === 'admin') add('notify', '/notify');
  if (acc.role === 'security_admin') add('sso', '/sso');
  if (['supervisor', 'admin'].includes(acc.role)) add('intake', '/intake');
  if (['enterprise', 'institution'].includes(acc.role)) add('todo', '/todo');
  if (acc.role === 'security_admin') add('online', '/online');
  if (acc.role === 'audit_admin') add('audit', '/audit');
  if (acc.role === 'org_dept') {
    add('cadres', '/cadres');
    add('teams', '/teams');
    const pool = await apiOk('GET', '/api/cadres?pool=section', { token });
    if (pool.length > 0) add(`cadre-${pool[0].person_id}`, `/cadres/${pool[0].person_id}`);
    add('experiences', '/cadres/experiences?kind=training');
    const secondments = await apiOk('GET', '/api/experiences?kind=secondment', { token });
    if (secondments.length > 0) add(`experience-${secondments[0].id}`, `/cadres/experiences/${secondments[0].id}`);
  }
  if (acc.role === 'admin') add('teams', '/teams');
  return pages;
}

/** The page's width and, when it is too wide, the elements that stick out (for the message). */
async function widthOf(page) {
  return page.evaluate((limit) => {
    const de = document.documentElement;
    const out = [];
    if (de.scrollWidth > limit) {
      for (const el of document.body.querySelectorAll('*')) {
        const r = el.getBoundingClientRect();
        if (r.right > limit + 0.5 && r.width > 0) {
          // Report the outermost offender only, and nothing that scrolls inside its own box.
          const parent = el.parentElement && el.parentElement.getBoundingClientRect();
          if (parent && parent.right > limit + 0.5) continue;
          let clipped = false;
          for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
            if (getComputedStyle(a).overflowX !== 'visible' && a.getBoundingClientRect().right <= limit + 0.5) clipped = true;
          }
          if (clipped) continue;
          const id = el.id ? `#${el.id}` : '';
          const cls = el.classList.length ? `.${[...el.classList].join('.')}` : '';
          out.push(`${el.tagName.toLowerCase()}${id}${cls} right=${Math.round(r.right)}`);
          if (out.length >= 6) break;
        }
      }
    }
    // The narrowest table cell holding four characters or more: a table squeezed into a phone
    // wraps its cells one or two characters a line.
    let narrowest = null;
    for (const td of document.querySelectorAll('main td')) {
      const r = td.getBoundingClientRect();
      if (r.width === 0 || td.textContent.trim().length < 4) continue;
      if (narrowest === null || r.width < narrowest) narrowest = Math.round(r.width);
    }
    return { scrollWidth: de.scrollWidth, scrollHeight: de.scrollHeight, narrowest, offenders: out };
  }, WIDTH);
}

async function phoneLogin(acc) {
  return browserLogin(acc.user, acc.home, PHONE);
}

let supervisorToken = null;

before(async () => {
  await startServerAndBrowser();
  await mkdir(SHOTS, { recursive: true });
  supervisorToken = await apiLogin('duchaju');
  // A 督查通报 on a unit, so the notice pages have a record to show (the demo may publish none).
  const notices = await apiOk('GET', '/api/notices', { token: supervisorToken });
  if (notices.length === 0) {
    const units = await apiOk('GET', '/api/units', { token: supervisorToken });
    const jsj = units.find((u) => u.code === 'jsj');
    await apiOk(
      'POST',
      '/api/notices',
      {
        token: supervisorToken,
        body: {
          kind: 'criticism',
          doc_no: `手机测试督通〔${beijingToday().slice(0, 4)}〕${Date.now()}号`,
          issued_on: beijingToday(),
          title: '关于城市道路积水点整改进度滞后情况的通报（手机页面测试）',
          body: '经督查，部分积水点整改进度滞后于时间进度，请相关单位抓紧整改。',
          targets: [{ unit_id: jsj.id }],
        },
      },
      [200, 201],
    );
  }
});

after(async () => {
  await writeFile(path.join(SHOTS, 'widths.json'), JSON.stringify(measured, null, 1)).catch(() => {});
  const table = measured.map(
    (m) => `${m.ok ? ' ' : '✗'} ${m.user.padEnd(8)} ${m.path.padEnd(20)} ${String(m.scrollWidth).padStart(5)} ${String(m.scrollHeight).padStart(6)} ${String(m.narrowestCell ?? '—').padStart(5)}`,
  );
  if (table.length) console.log(`at ${WIDTH} px: page, width, height, narrowest table cell\n${table.join('\n')}`);
  await stopAll();
});

for (const acc of ACCOUNTS) {
  test(`${acc.user}（${acc.role}）的页面在 390 px 宽的手机上不横向滚动`, { timeout: TEST_TIMEOUT_MS * 2 }, async () => {
    const pages = await pagesOf(acc);
    const { context, page } = await phoneLogin(acc);
    const wide = [];
    try {
      await mkdir(path.join(SHOTS, acc.user), { recursive: true });
      for (const p of pages) {
        const res = await page.goto(p.path);
        assert.equal(res?.status(), 200, `${acc.user} GET ${p.path} answered ${res?.status()}`);
        const w = await widthOf(page);
        const ok = w.scrollWidth <= WIDTH;
        measured.push({
          user: acc.user, page: p.name, path: p.path, scrollWidth: w.scrollWidth, scrollHeight: w.scrollHeight,
          narrowestCell: w.narrowest, ok,
        });
        if (!ok) wide.push(`${p.path}: ${w.scrollWidth} px wide (${w.offenders.join('; ')})`);
        await page.screenshot({ path: path.join(SHOTS, acc.user, `${p.name}.png`), fullPage: true });
      }
    } finally {
      await context.close();
    }
    assert.deepEqual(wide, [], `${acc.user}: pages wider than ${WIDTH} px`);
  });
}

for (const acc of ACCOUNTS) {
  test(`${acc.user}：手机上菜单收起，点开后可进入各页面，且每个链接都能打开`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { context, page } = await phoneLogin(acc);
    try {
      const bar = await page.locator('header').boundingBox();
      assert.ok(bar, 'the page has a header');
      t.diagnostic(`${acc.user}: header ${Math.round(bar.height)} px tall with the menu closed`);
      assert.ok(bar.height <= MAX_BAR_HEIGHT, `the header bar is ${Math.round(bar.height)} px tall with the menu closed (at most ${MAX_BAR_HEIGHT})`);
      const nav = page.locator('#main-nav');
      assert.equal(await nav.count(), 1, 'the header has a #main-nav');
      assert.equal(await nav.isVisible(), false, 'the menu is collapsed on a phone');
      const burger = page.locator('#nav-burger');
      assert.ok(await burger.isVisible(), 'a menu button shows on a phone');
      await burger.tap();
      await nav.waitFor({ state: 'visible' });
      // Every group is open (or opens with a tap) and its links can be tapped.
      for (const s of await nav.locator('details.menu > summary').all()) {
        const d = s.locator('..');
        if (!(await d.evaluate((el) => el.open))) await s.tap();
      }
      const links = nav.locator('a[href]');
      const hrefs = await links.evaluateAll((as) => as.map((a) => a.getAttribute('href')));
      assert.ok(hrefs.length > 0, 'the open menu lists links');
      for (const [i, href] of hrefs.entries()) {
        assert.ok(await links.nth(i).isVisible(), `the link to ${href} shows in the open menu`);
      }
      await page.screenshot({ path: path.join(SHOTS, acc.user, 'menu-open.png'), fullPage: true });
      const w = await widthOf(page);
      assert.ok(w.scrollWidth <= WIDTH, `with the menu open the page is ${w.scrollWidth} px wide (${w.offenders.join('; ')})`);
      // The menu only offers what the role may open: every link answers 200.
      for (const href of hrefs) {
        const r = await page.request.get(href);
        assert.equal(r.status(), 200, `${acc.user}: the menu links to ${href}, which answers ${r.status()}`);
      }
      // Tapping a link goes there, and the menu is closed again on the new page.
      const target = hrefs.find((h) => h !== new URL(page.url()).pathname) ?? hrefs[0];
      await Promise.all([page.waitForURL((u) => u.pathname === target.split('?')[0] || u.pathname.startsWith(target)), links.nth(hrefs.indexOf(target)).tap()]);
      assert.equal(await page.locator('#main-nav').isVisible(), false, 'the menu is closed on the new page');
    } finally {
      await context.close();
    }
  });
}

/** The top of the 办理 section and of the first table on a task page (document coordinates). */
async function actionsAndTables(page) {
  return page.evaluate(() => {
    const top = (el) => (el ? el.getBoundingClientRect().top + window.scrollY : null);
    // #actions is the 办理 section; before it had an id the section was `.actions`.
    const forms = document.querySelector('#actions') || document.querySelector('.actions');
    const firstForm = forms && forms.querySelector('form');
    return {
      actions: top(forms),
      form: top(firstForm),
      formId: firstForm ? firstForm.id : null,
      table: top(document.querySelector('main table')),
      tableId: document.querySelector('main table')?.id ?? null,
    };
  });
}

for (const user of ['jsj_lly', 'jsj_dlk', 'duchaju', 'fqz_cj']) {
  test(`${user}：手机上任务页的办理表单在长表格之前`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const acc = ACCOUNTS.find((a) => a.user === user);
    const token = await apiLogin(user);
    const todo = await apiOk('GET', '/api/todo', { token });
    const id = todo.length > 0 ? todo[0].task.id : 2;
    const { context, page } = await phoneLogin(acc);
    try {
      const res = await page.goto(`/tasks/${id}`);
      assert.equal(res?.status(), 200, `${user} GET /tasks/${id} answered ${res?.status()}`);
      const pos = await actionsAndTables(page);
      t.diagnostic(`${user} /tasks/${id}: first form ${pos.formId} at ${Math.round(pos.form)} px, first table at ${Math.round(pos.table)} px`);
      assert.ok(pos.form !== null, `${user} has a form to act on at /tasks/${id} (#actions form)`);
      assert.ok(pos.table !== null, `/tasks/${id} has tables`);
      assert.ok(
        pos.form < pos.table,
        `${user} /tasks/${id}: the first form (${pos.formId}) starts at ${Math.round(pos.form)} px, below the first table (${pos.tableId}) at ${Math.round(pos.table)} px`,
      );
      // The form can be reached without scrolling far: within two screens.
      assert.ok(pos.form < 2 * 844, `${user} /tasks/${id}: the first form starts at ${Math.round(pos.form)} px`);
      await page.screenshot({ path: path.join(SHOTS, user, `task-${id}-actions.png`) });
    } finally {
      await context.close();
    }
  });
}

test('电脑上分组菜单可展开，链接可用，同时只展开一个', { timeout: TEST_TIMEOUT_MS }, async () => {
  const { context, page } = await browserLogin('duchaju');
  try {
    const bar = await page.locator('header').boundingBox();
    assert.ok(bar.height <= MAX_BAR_HEIGHT, `the desktop header is ${Math.round(bar.height)} px tall (one line)`);
    const nav = page.locator('#main-nav');
    assert.ok(await nav.isVisible(), 'the menu bar shows on a desktop');
    assert.equal(await page.locator('#nav-burger').isVisible(), false, 'no menu button on a desktop');
    const groups = await nav.locator('details.menu > summary').allTextContents();
    assert.deepEqual(groups.map((g) => g.trim()), ['督办', '统计考核', '产学研', '系统'], 'the menu groups');
    const tasksLink = nav.locator('a[href="/tasks"]');
    assert.equal(await tasksLink.isVisible(), false, 'the dropdowns start closed');
    // The current page's group is marked.
    assert.match((await nav.locator('details.menu.on > summary').textContent()).trim(), /督办/, '待办 is under 督办');

    const group = (name) => nav.locator('details.menu', { has: page.locator(`summary:text-is("${name}")`) });
    await group('统计考核').locator('summary').click();
    assert.ok(await nav.locator('a[href="/dashboard"]').isVisible(), '统计考核 opens');
    await group('督办').locator('summary').click();
    assert.ok(await tasksLink.isVisible(), '督办 opens');
    assert.equal(await nav.locator('a[href="/dashboard"]').isVisible(), false, 'opening one menu closes the other');
    await page.screenshot({ path: path.join(SHOTS, 'desktop-menu-open.png') });
    await Promise.all([page.waitForURL('**/tasks'), tasksLink.click()]);
    assert.equal(await page.locator('#main-nav a[href="/tasks"].on').count(), 1, 'the 任务 link is marked on /tasks');
    assert.equal((await page.locator('#main-nav details.menu.on > summary').textContent()).trim(), '督办');

    // Clicking elsewhere closes an open menu; Escape too.
    await group('系统').locator('summary').click();
    assert.ok(await nav.locator('a[href="/password"]').isVisible(), '系统 opens');
    await page.locator('main h1').click();
    assert.equal(await nav.locator('a[href="/password"]').isVisible(), false, 'a click outside closes the menu');
    await group('产学研').locator('summary').click();
    assert.ok(await nav.locator('a[href="/docking"]').isVisible(), '产学研 opens');
    await page.keyboard.press('Escape');
    assert.equal(await nav.locator('a[href="/docking"]').isVisible(), false, 'Escape closes the menu');

    await group('统计考核').locator('summary').click();
    await Promise.all([page.waitForURL('**/dashboard'), nav.locator('a[href="/dashboard"]').click()]);
    assert.equal((await page.locator('#main-nav details.menu.on > summary').textContent()).trim(), '统计考核');
    await page.screenshot({ path: path.join(SHOTS, 'desktop-dashboard.png'), fullPage: true });
  } finally {
    await context.close();
  }
});
