// The 用户手册's screenshots (docs/manual/src/shots/<chapter>/<step>.png), taken while walking the
// steps the manual describes, as the role each chapter is written for, on the demo data. A step
// that no longer works fails here, so the manual cannot drift from the product; the last test
// checks that every picture the manual's markdown shows was written by this run and that every
// picture taken is shown.
//
// Run alone (from the repository root, after `cargo build -p xietong`), then build the book:
//   XIETONG_BIN=$PWD/target/debug/xietong node --test tests/browser/manual.test.mjs
//   mdbook build docs/manual

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { access, mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import {
  TEST_TIMEOUT_MS, apiOk, apiLogin, beijingNow, beijingToday, browserLogin, submitAndWait, errorFlashes,
  startServerAndBrowser, stopAll, env, PASSWORD,
} from './harness.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BOOK_SRC = path.resolve(HERE, '../../docs/manual/src');
const SHOTS = path.join(BOOK_SRC, 'shots');
const DESKTOP = { viewport: { width: 1280, height: 800 } };
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 1 };
const CHROMIUM = process.env.XIETONG_CHROMIUM || '/usr/bin/chromium';
// Chromium's own words in a page (选择文件, 未选择任何文件, dates as 2026/12/05) follow its UI
// language, which needs Debian's chromium-l10n (scripts/test.sh installs it).
const ZH_LOCALE = '/usr/lib/chromium/locales/zh-CN.pak';

/** Every picture this run wrote, as its path under src/ ("shots/liaison/01-todo.png"). */
const written = new Set();

/**
 * Save a screenshot for the manual: of `target` (a locator: that element only; or `{ clip }`: that
 * part of the viewport) or of the page's viewport. Names are `<chapter>/<step>`.
 */
async function shot(page, name, target = null) {
  const rel = `shots/${name}.png`;
  assert.ok(!written.has(rel), `${rel} is taken twice`);
  const file = path.join(BOOK_SRC, rel);
  await mkdir(path.dirname(file), { recursive: true });
  // Thumbnails and fonts are loaded before the picture is taken.
  await page.waitForLoadState('networkidle').catch(() => {});
  // No caret or focus ring in the picture.
  await page.evaluate(() => document.activeElement?.blur());
  if (target?.clip) {
    await page.screenshot({ path: file, clip: target.clip });
  } else if (target) {
    await target.scrollIntoViewIfNeeded();
    await target.screenshot({ path: file });
  } else {
    await page.screenshot({ path: file });
  }
  written.add(rel);
}

async function expectOk(page, when) {
  assert.deepEqual(await errorFlashes(page), [], `${when}: error on ${page.url()}`);
}

/**
 * Irreversible actions (办结销号, 发布通报) may ask on a second screen before they happen: confirm
 * when asked, so the walk holds with and without that screen.
 */
async function confirmIfAsked(page) {
  const yes = page.locator('form#form-confirm #confirm-yes');
  if ((await yes.count()) > 0) await submitAndWait(page, yes);
}

async function go(page, url) {
  const res = await page.goto(url);
  assert.equal(res?.status(), 200, `GET ${url} answered ${res?.status()}`);
}

/** Choose the option of `select` whose text contains `text`. */
async function chooseByText(select, text) {
  const options = await select
    .locator('option')
    .evaluateAll((os) => os.map((o) => ({ v: o.value, t: o.textContent })));
  const hit = options.find((o) => o.t.includes(text));
  assert.ok(hit, `no option containing ${text} among ${JSON.stringify(options.map((o) => o.t))}`);
  await select.selectOption(hit.v);
  return hit.v;
}

async function status(page) {
  return page.locator('#task-status').getAttribute('data-status');
}

/** A PNG that stands for a site photo: drawn in the browser, so no file ships with the test. */
async function photo(name, caption) {
  const context = await env.browser.newContext({ viewport: { width: 480, height: 320 } });
  const page = await context.newPage();
  await page.setContent(`<body style="margin:0;width:480px;height:320px;display:flex;align-items:flex-end;
    background:linear-gradient(#9cc3e6 0 45%, #8a8f96 45% 70%, #5f6b5a 70%);font:20px sans-serif">
    <div style="background:rgba(0,0,0,.55);color:#fff;padding:6px 10px;margin:10px">${caption}</div></body>`);
  const buffer = await page.screenshot();
  await context.close();
  return { name, mimeType: 'image/png', buffer };
}

async function session(username) {
  return apiOk('POST', '/api/session', { body: { username, password: PASSWORD } });
}

/** A date `days` calendar days after `date` (YYYY-MM-DD). */
function addDays(date, days) {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

// Facts shared by the walk: the task the supervision chapters follow from 立项 to 办结.
const walk = {
  deadline: null, // YYYY-MM-DD, about two working weeks ahead
  taskId: null,
  subtaskId: null, // the 责任人 jsj_dlk's sub-task
  responsiblePersonId: null,
  problemPath: null, // the enterprise's 难题
  dockingPath: null,
};

/** Sign in as `username` on a 1280 × 800 desktop (or `options`, e.g. PHONE). */
function signIn(username, landing = '/todo', options = DESKTOP) {
  return browserLogin(username, landing, options);
}

before(async () => {
  await startServerAndBrowser();
  // The harness's browser speaks English in its own controls; this one speaks Chinese.
  await access(ZH_LOCALE).catch(() =>
    assert.fail(`${ZH_LOCALE} is missing: apt-get install chromium-l10n (scripts/test.sh does it)`));
  await env.browser.close();
  env.browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--lang=zh-CN'],
    env: { ...process.env, LANGUAGE: 'zh_CN' },
  });
  const token = await apiLogin('duchaju');
  const from = encodeURIComponent(beijingNow());
  const due = await apiOk('GET', `/api/calendar/due?from=${from}&working_hours=80`, { token });
  walk.deadline = String(due.due).slice(0, 10);
  walk.responsiblePersonId = (await session('jsj_dlk')).user.person_id;
});

after(stopAll);

// ---------------------------------------------------------------------------------------------
// 引言: signing in, 待办, the menu on a desktop and on a phone, 消息中心

test('引言：登录、待办、菜单（电脑和手机）、消息中心', { timeout: TEST_TIMEOUT_MS }, async () => {
  const context = await env.browser.newContext({
    baseURL: env.baseURL,
    locale: 'zh-CN',
    viewport: { width: 1280, height: 560 },
  });
  try {
    const page = await context.newPage();
    await go(page, '/login');
    await page.locator('input[name=username]').fill('jsj_lly');
    await shot(page, 'intro/01-login');
  } finally {
    await context.close();
  }

  const { context: c1, page } = await signIn('jsj_lly');
  try {
    assert.ok((await page.locator('#todo tbody tr').count()) > 0, 'the liaison has something to do');
    await shot(page, 'intro/02-todo');
    await page.locator('#menu-duban > summary').click();
    assert.ok(await page.locator('#menu-duban .drop a[href="/tasks"]').isVisible(), 'the 督办 menu opens');
    await shot(page, 'intro/03-menu', { clip: { x: 0, y: 0, width: 1280, height: 300 } });
    await page.keyboard.press('Escape');
    await Promise.all([page.waitForURL('**/inbox'), page.locator('#inbox-link').click()]);
    assert.ok((await page.locator('#inbox tr[data-id]').count()) > 0, 'the inbox lists messages');
    await shot(page, 'intro/04-inbox');
  } finally {
    await c1.close();
  }

  const { context: c2, page: phone } = await signIn('jsj_lly', '/todo', PHONE);
  try {
    assert.ok(await phone.locator('#nav-burger').isVisible(), 'a phone shows ☰ 菜单');
    await shot(phone, 'intro/05-phone-todo');
    await phone.locator('#nav-burger').click();
    assert.ok(await phone.locator('#main-nav a[href="/tasks"]').isVisible(), 'the phone menu opens');
    await shot(phone, 'intro/06-phone-menu');
  } finally {
    await c2.close();
  }
});

// ---------------------------------------------------------------------------------------------
// 督查局: 立项交办 and the 督办通知单

test('督查局立项并交办，下载督办通知单', { timeout: TEST_TIMEOUT_MS }, async () => {
  const { context, page } = await signIn('duchaju');
  try {
    await go(page, '/tasks/new');
    const f = page.locator('form#form-new-task');
    const year = beijingToday().slice(0, 4);
    await f.locator('[name=title]').fill('背街小巷路灯照明改造（手册示例）');
    await f.locator('[name=description]').fill('对城区 12 条背街小巷的路灯进行节能改造，消除照明盲区，改造完成后组织验收。');
    await f.locator('[name=source_kind]').selectOption('meeting');
    await f.locator('[name=doc_no]').fill(`二七政阅〔${year}〕手册示例1号`);
    await f.locator('[name=source_title]').fill('区政府常务会议纪要（示例）');
    await f.locator('[name=source_date]').fill(beijingToday());
    await chooseByText(f.locator('[name=category_id]'), '精细化管理');
    await chooseByText(f.locator('[name=lead_unit_id]'), '建设和交通局');
    await chooseByText(f.locator('[name=leader_person_id]'), '分管城建交通副区长');
    await f.locator('[name=report_cycle]').selectOption('weekly');
    await f.locator('[name=deadline]').fill(walk.deadline);
    await chooseByText(f.locator('[name=co_unit_ids]'), '城管局');
    await f.locator('[name=assign_now]').check();
    await shot(page, 'supervisor/01-new-task', f);
    await submitAndWait(page, f.locator('button[type=submit]').first());
    await expectOk(page, '立项');
    const m = new URL(page.url()).pathname.match(/^\/tasks\/(\d+)$/);
    assert.ok(m, `立项 should land on the task page, not ${page.url()}`);
    walk.taskId = Number(m[1]);
    assert.equal(await status(page), 'assigned', '立项并交办 hands the task over at once');
    await shot(page, 'supervisor/02-assigned');

    // The 督办通知单 is a Word file with a receipt.
    const link = page.locator(`a[href="/tasks/${walk.taskId}/notice.docx"]`);
    assert.equal(await link.count(), 1, 'the task page links its 督办通知单');
    const res = await page.request.get(`/tasks/${walk.taskId}/notice.docx`);
    assert.equal(res.status(), 200);
    assert.match(res.headers()['content-type'] ?? '', /officedocument\.wordprocessingml/);
    await link.evaluate((a) => {
      a.style.outline = '3px solid #f9a825';
    });
    await page.evaluate(() => window.scrollTo(0, 0));
    const card = await page.locator('main .card').first().boundingBox();
    const clip = { x: 0, y: 48, width: 1280, height: card.y + card.height + 12 - 48 };
    await shot(page, 'supervisor/03-notice-link', { clip });
  } finally {
    await context.close();
  }
});

// ---------------------------------------------------------------------------------------------
// 联络员: 签收, 分解, 批量签收

test('联络员签收、2 个工作小时内分解、批量签收', { timeout: TEST_TIMEOUT_MS }, async () => {
  assert.ok(walk.taskId, 'the task of the walk exists');
  // A second task to receive in a batch.
  const token = await apiLogin('duchaju');
  const units = await apiOk('GET', '/api/units', { token });
  const jsj = units.find((u) => u.code === 'jsj');
  const year = beijingToday().slice(0, 4);
  const second = await apiOk('POST', '/api/tasks', {
    token,
    body: {
      title: '人行道破损路面修复（手册示例）', description: '修复主干道两侧破损人行道。', source_kind: 'instruction',
      doc_no: `二七督〔${year}〕手册示例2号`, source_title: '', source_date: beijingToday(), category_id: null,
      lead_unit_id: jsj.id, co_unit_ids: [], leader_person_id: null, report_cycle: 'monthly', deadline: walk.deadline,
      assign_now: true,
    },
  }, [201]);

  const { context, page } = await signIn('jsj_lly');
  try {
    const row = page.locator('#todo tbody tr', { hasText: '背街小巷路灯照明改造' });
    assert.equal(await row.count(), 1, 'the new task is on the liaison’s 待办');
    await shot(page, 'liaison/01-todo');

    await go(page, `/tasks/${walk.taskId}`);
    assert.equal(await page.locator('#decomposition-clock').getAttribute('data-state'), 'running');
    await page.locator('form#form-receive textarea[name=comment]').fill('已签收，立即组织分解。');
    await shot(page, 'liaison/02-receive', page.locator('#actions'));
    await submitAndWait(page, page.locator('form#form-receive button[type=submit]'));
    await expectOk(page, '签收');
    assert.equal(await status(page), 'received');

    const f = page.locator('form#form-decompose');
    await f.locator('button[type=button]', { hasText: '再加一项' }).click();
    const rows = f.locator('.sub-row');
    assert.equal(await rows.count(), 2);
    const fill = async (i, title, dept, person) => {
      const r = rows.nth(i);
      await r.locator('input[name=sub_title]').fill(title);
      const deptId = await chooseByText(r.locator('select[name=sub_dept]'), dept);
      const people = await r.locator('select[name=sub_person] option').evaluateAll((os) =>
        os.map((o) => ({ v: o.value, unit: o.getAttribute('data-unit') })));
      const p = person ? String(person) : people.find((o) => o.unit === deptId)?.v;
      assert.ok(p, `no person of ${dept}`);
      await r.locator('select[name=sub_person]').selectOption(p);
      await r.locator('input[name=sub_deadline]').fill(walk.deadline);
    };
    await fill(0, '北片区 6 条小巷路灯改造', '道路科', walk.responsiblePersonId);
    await fill(1, '南片区 6 条小巷路灯改造', '工程科', null);
    await shot(page, 'liaison/03-decompose', f.locator('xpath=..'));
    await submitAndWait(page, f.locator('button[type=submit]'));
    await expectOk(page, '分解');
    assert.equal(await status(page), 'in_progress');
    assert.equal(await page.locator('#decomposition-clock').getAttribute('data-state'), 'met', 'decomposed in time');
    const clocks = page.locator('table', { has: page.locator('#decomposition-clock') });
    await shot(page, 'liaison/04-clock', clocks);

    const liaison = await apiLogin('jsj_lly');
    const t = await apiOk('GET', `/api/tasks/${walk.taskId}`, { token: liaison });
    const mine = t.subtasks.find((s) => s.person_id === walk.responsiblePersonId);
    assert.ok(mine, `one sub-task is the 责任人's: ${JSON.stringify(t.subtasks)}`);
    walk.subtaskId = mine.id;

    // 批量签收 on the list of 待办.
    await go(page, '/todo');
    await page.locator(`#todo input[name=id][value="${second.id}"]`).check();
    await shot(page, 'liaison/05-batch', page.locator('main'));
    await submitAndWait(page, page.locator('#batch-receive'));
    const ok = page.locator('#batch-results tr.ok');
    assert.equal(await ok.count(), 1, 'the ticked task is received');
    await shot(page, 'liaison/06-batch-done');
  } finally {
    await context.close();
  }
});

// ---------------------------------------------------------------------------------------------
// 责任人: 子任务汇报

test('责任人汇报子任务进展', { timeout: TEST_TIMEOUT_MS }, async () => {
  assert.ok(walk.subtaskId, 'the 责任人 has a sub-task');
  const { context, page } = await signIn('jsj_dlk');
  try {
    assert.equal(await page.locator('#todo tbody tr', { hasText: '背街小巷路灯照明改造' }).count(), 1);
    await shot(page, 'responsible/01-todo');
    await go(page, `/tasks/${walk.taskId}`);
    const f = page.locator(`form#form-report-subtask-${walk.subtaskId}`);
    assert.equal(await f.count(), 1, 'the 责任人 may report his sub-task');
    await f.locator('input[name=progress]').fill('40');
    await f.locator('textarea[name=text]').fill('北片区 6 条小巷已完成灯杆基础施工，正在安装灯具。');
    await f.locator('input[type=file]').setInputFiles(await photo('北片区灯杆基础.png', '北片区灯杆基础施工（示例照片）'));
    await shot(page, 'responsible/02-report', f.locator('xpath=..'));
    await submitAndWait(page, f.locator('button[type=submit]'));
    await expectOk(page, '子任务汇报');
    const sub = page.locator('#subtasks tr', { hasText: '北片区 6 条小巷路灯改造' });
    assert.match(await sub.innerText(), /40%/);
    await shot(page, 'responsible/03-reported', page.locator('#subtasks'));
  } finally {
    await context.close();
  }
});

// ---------------------------------------------------------------------------------------------
// 联络员: 汇报 with a photo

test('联络员汇报总体进展并附现场照片', { timeout: TEST_TIMEOUT_MS }, async () => {
  const { context, page } = await signIn('jsj_lly');
  try {
    await go(page, `/tasks/${walk.taskId}`);
    const f = page.locator('form#form-report');
    await f.locator('input[name=progress]').fill('35');
    await f.locator('textarea[name=text]').fill('北片区灯杆基础完成，南片区完成线路勘察；预计下周开始安装灯具。');
    await f.locator('input[type=file]').setInputFiles(await photo('路灯改造现场.png', '背街小巷路灯改造现场（示例照片）'));
    await shot(page, 'liaison/07-report', f.locator('xpath=..'));
    await submitAndWait(page, f.locator('button[type=submit]'));
    await expectOk(page, '汇报');
    const entry = page.locator('table tr', { hasText: '进度 35%' });
    assert.equal(await entry.count(), 1, 'the report is on the timeline');
    assert.equal(await entry.locator('img').count(), 1, 'with the photo’s thumbnail');
    await shot(page, 'liaison/08-timeline', entry);
  } finally {
    await context.close();
  }
});

// ---------------------------------------------------------------------------------------------
// 区领导: 批示, 督导看板, 督导记录

test('区领导查看督导看板、批示、记录督导', { timeout: TEST_TIMEOUT_MS }, async () => {
  const { context, page } = await signIn('fqz_cj');
  try {
    await go(page, '/dashboard');
    assert.equal(await page.locator('#dashboard-totals').count(), 1);
    await shot(page, 'leader/01-dashboard');

    await go(page, `/tasks/${walk.taskId}`);
    const f = page.locator('form#form-instruct');
    await f.locator('textarea[name=text]').fill('请加快南片区施工进度，入冬前全部亮灯。');
    await shot(page, 'leader/02-instruct', f.locator('xpath=..'));
    await submitAndWait(page, f.locator('button[type=submit]'));
    await expectOk(page, '批示');
    const entry = page.locator('table tr', { hasText: '入冬前全部亮灯' });
    assert.ok((await entry.count()) >= 1, 'the 批示 is on the timeline');
    await shot(page, 'leader/03-instructed', entry.first());

    await go(page, '/dashboard#visits');
    const v = page.locator('form#form-visit');
    await v.locator('[name=visited_on]').fill(beijingToday());
    await chooseByText(v.locator('[name=unit_id]'), '建设和交通局');
    await v.locator('[name=place]').fill('大学路街道背街小巷');
    await v.locator('[name=findings]').fill('南片区路灯线路勘察完成，但施工队伍尚未进场。');
    await v.locator('[name=follow_up]').fill('建设和交通局三日内安排施工队伍进场，督查局跟踪。');
    await shot(page, 'leader/04-visit', v);
    await submitAndWait(page, v.locator('button[type=submit]'));
    await expectOk(page, '记录督导');
    const row = page.locator('#visit-table tr', { hasText: '大学路街道背街小巷' });
    assert.equal(await row.count(), 1, 'the visit is recorded');
    await shot(page, 'leader/05-visit-saved', page.locator('#visit-table'));
  } finally {
    await context.close();
  }
});

// ---------------------------------------------------------------------------------------------
// 延期: the liaison asks, the 督查局 reviews, the 分管领导 decides

test('联络员申请延期，督查局审核，分管领导审批', { timeout: TEST_TIMEOUT_MS }, async () => {
  const newDeadline = addDays(walk.deadline, 14);
  const liaison = await signIn('jsj_lly');
  try {
    const p = liaison.page;
    await go(p, `/tasks/${walk.taskId}`);
    const f = p.locator('form#form-request-extension');
    await f.locator('input[name=new_deadline]').fill(newDeadline);
    await f.locator('textarea[name=reason]').fill('南片区 2 条小巷需同步迁改通信线路，施工须待线路迁改完成。');
    await shot(p, 'liaison/09-extension', f.locator('xpath=..'));
    await submitAndWait(p, f.locator('button[type=submit]'));
    await expectOk(p, '延期申请');
  } finally {
    await liaison.context.close();
  }

  const sup = await signIn('duchaju');
  try {
    const p = sup.page;
    assert.equal(await p.locator('#todo tbody tr', { hasText: '背街小巷路灯照明改造' }).count(), 1, 'the 延期审核 waits on the 待办');
    await go(p, `/tasks/${walk.taskId}`);
    const f = p.locator('form#form-review_extension');
    await f.locator('textarea[name=comment]').fill('理由属实，同意报分管领导审批。');
    await shot(p, 'supervisor/04-extension-review', f.locator('xpath=..'));
    await submitAndWait(p, f.locator('button[type=submit]'));
    await expectOk(p, '延期审核');
  } finally {
    await sup.context.close();
  }

  const leader = await signIn('fqz_cj');
  try {
    const p = leader.page;
    assert.equal(await p.locator('#todo tbody tr', { hasText: '背街小巷路灯照明改造' }).count(), 1, 'the 延期审批 waits on the 待办');
    await go(p, `/tasks/${walk.taskId}`);
    const f = p.locator('form#form-decide_extension');
    await f.locator('textarea[name=comment]').fill('同意延期。');
    await shot(p, 'leader/06-extension-decide', f.locator('xpath=..'));
    await submitAndWait(p, f.locator('button[type=submit]'));
    await expectOk(p, '延期审批');
    assert.match(await p.locator('main').innerText(), new RegExp(`办理期限：${newDeadline}`), 'the deadline moved');
  } finally {
    await leader.context.close();
  }
});

// ---------------------------------------------------------------------------------------------
// 办结: the liaison asks with evidence, the 督查局 closes the task

test('联络员申请办结，督查局审核办结销号', { timeout: TEST_TIMEOUT_MS }, async () => {
  const liaison = await signIn('jsj_lly');
  try {
    const p = liaison.page;
    await go(p, `/tasks/${walk.taskId}`);
    const f = p.locator('form#form-request-completion');
    await f.locator('textarea[name=text]').fill('12 条背街小巷路灯改造全部完成，已通过联合验收。');
    await f.locator('input[type=file]').setInputFiles(await photo('验收现场.png', '路灯改造联合验收（示例照片）'));
    await shot(p, 'liaison/10-completion', f.locator('xpath=..'));
    await submitAndWait(p, f.locator('button[type=submit]'));
    await expectOk(p, '办结申请');
    assert.equal(await status(p), 'pending_review');
  } finally {
    await liaison.context.close();
  }

  const sup = await signIn('duchaju');
  try {
    const p = sup.page;
    await go(p, `/tasks/${walk.taskId}`);
    await p.locator('form#form-approve textarea[name=comment]').fill('材料齐全，同意办结。');
    await shot(p, 'supervisor/05-approve', p.locator('#actions'));
    await submitAndWait(p, p.locator('form#form-approve button[type=submit]'));
    await confirmIfAsked(p);
    await expectOk(p, '审核办结');
    assert.equal(await status(p), 'closed');
    await shot(p, 'supervisor/06-closed');
  } finally {
    await sup.context.close();
  }
});

// ---------------------------------------------------------------------------------------------
// 督查局: 催办, 批量催办, 通报, 月度排名, 问题台账, 导入导出

test('督查局催办、批量催办、通报、月度排名、问题台账、导入导出', { timeout: TEST_TIMEOUT_MS }, async () => {
  const token = await apiLogin('duchaju');
  const open = await apiOk('GET', '/api/tasks?status=open&light=red', { token });
  const red = open.items.map((r) => r.task ?? r);
  assert.ok(red.length >= 2, `the demo has overdue tasks to urge: ${JSON.stringify(red.map((t) => t.title))}`);

  const { context, page } = await signIn('duchaju');
  try {
    await go(page, `/tasks/${red[0].id}`);
    const f = page.locator('form#form-urge');
    await f.locator('textarea[name=comment]').fill('该任务已逾期，请于明日下班前报送办理情况和整改时限。');
    await shot(page, 'supervisor/07-urge', f.locator('xpath=..'));
    await submitAndWait(page, f.locator('button[type=submit]'));
    await expectOk(page, '催办');

    await go(page, '/tasks?light=red');
    for (const t of red.slice(0, 3)) await page.locator(`input[name=id][value="${t.id}"]`).check();
    await page.locator('#batch input[name=comment]').fill('请本周内报送逾期原因');
    await shot(page, 'supervisor/08-batch');
    await submitAndWait(page, page.locator('#batch-urge'));
    assert.ok((await page.locator('#batch-results tr.ok').count()) >= 1, 'the batch urged its rows');
    await shot(page, 'supervisor/09-batch-done');

    await go(page, '/notices');
    const n = page.locator('form#form-notice');
    await n.locator('[name=kind]').selectOption({ label: '表扬' });
    await n.locator('[name=doc_no]').fill(`二七督通〔${beijingToday().slice(0, 4)}〕手册示例1号`);
    await n.locator('[name=issued_on]').fill(beijingToday());
    await n.locator('[name=title]').fill('关于背街小巷路灯改造提前完成的表扬通报（示例）');
    await n.locator('[name=body]').fill('建设和交通局组织有力，背街小巷路灯改造提前完成并通过验收，予以通报表扬。');
    await chooseByText(n.locator('[name=unit_id]'), '建设和交通局');
    await shot(page, 'supervisor/10-notice', n);
    await submitAndWait(page, n.locator('button[type=submit]'));
    await confirmIfAsked(page);
    await expectOk(page, '发布通报');
    const issued = page.locator('#notices a', { hasText: '路灯改造提前完成' });
    if (!new URL(page.url()).pathname.match(/^\/notices\/\d+$/)) {
      assert.equal(await issued.count(), 1, 'the notice is listed');
      await Promise.all([page.waitForURL(/\/notices\/\d+$/), issued.first().click()]);
    }
    assert.equal(await page.locator('#notice-docx').count(), 1, 'the notice has its Word file');
    await shot(page, 'supervisor/11-notice-issued');

    // The ranking of a month already over, as the lead department sees it before publishing.
    await go(page, '/rankings');
    const prev = addDays(`${beijingToday().slice(0, 7)}-01`, -1).slice(0, 7);
    const pf = page.locator('form#form-preview');
    await chooseByText(pf.locator('[name=category_id]'), '防汛应急');
    await pf.locator('[name=month]').fill(prev);
    await submitAndWait(page, pf.locator('button[type=submit]'));
    await expectOk(page, '试算');
    assert.ok((await page.locator('main table').count()) > 0, 'the 试算 shows a table');
    await shot(page, 'supervisor/12-rankings');

    await go(page, '/problems');
    assert.ok((await page.locator('main table tr').count()) > 1, 'the ledger lists problems');
    await shot(page, 'supervisor/13-problems');
    const first = page.locator('main table tr', { hasText: '协调中' }).locator('a[href^="/problems/"]').first();
    await Promise.all([page.waitForURL(/\/problems\/\d+$/), first.click()]);
    assert.equal(await page.locator('form#form-meeting').count(), 1, 'a problem takes 协调会 / 研判会');
    await shot(page, 'supervisor/14-problem');

    await go(page, '/imports');
    assert.equal(await page.locator('form#form-import-tasks').count(), 1);
    await shot(page, 'supervisor/15-imports');
  } finally {
    await context.close();
  }
});

// ---------------------------------------------------------------------------------------------
// 产学研: 企业 submits a 难题, 科技局 reviews, matches, 对接, 技术合同, 科技统计, 征集

test('企业提交难题，科技局审核、匹配、对接、登记技术合同、查看科技统计、发起征集', { timeout: TEST_TIMEOUT_MS * 2 }, async () => {
  const ent = await signIn('qiye');
  const tech = await signIn('kejiju');
  try {
    const e = ent.page;
    await go(e, '/docking/problems');
    const f = e.locator('form#form-problem');
    await f.locator('[name=title]').fill('架桥机主梁焊接变形与残余应力控制');
    await f.locator('[name=description]').fill('箱形主梁长焊缝焊接后变形超标、残余应力高，需要优化焊接工艺，消除焊接残余应力，目标降低 50%。');
    await f.locator('[name=keywords]').fill('焊接残余应力；焊接变形；架桥机');
    await f.locator('[name=budget_wan]').fill('80');
    await f.locator('[name=cooperation_mode]').selectOption('合作开发');
    await shot(e, 'enterprise/01-submit', f);
    await submitAndWait(e, f.locator('button[type=submit]'));
    await expectOk(e, '提交难题');
    const m = new URL(e.url()).pathname.match(/^\/docking\/problems\/\d+$/);
    assert.ok(m, `after submitting, expected /docking/problems/N, got ${e.url()}`);
    walk.problemPath = m[0];
    assert.equal((await e.locator('#review-status').innerText()).trim(), '待形式审核');
    await shot(e, 'enterprise/02-submitted');

    const t = tech.page;
    await go(t, '/docking/review');
    assert.equal(await t.locator(`#review-queue a[href="${walk.problemPath}"]`).count(), 1, 'the 难题 is on the 审核台');
    await shot(t, 'tech/02-review-desk');
    const queued = t.locator(`#review-queue a[href="${walk.problemPath}"]`);
    await Promise.all([t.waitForURL(`**${walk.problemPath}`), queued.click()]);
    await shot(t, 'tech/03-review');
    await submitAndWait(t, t.locator('form#form-review button[type=submit]'));
    await expectOk(t, '形式审核');
    assert.equal((await t.locator('#review-status').innerText()).trim(), '待部门审核');
    await submitAndWait(t, t.locator('form#form-review button[type=submit]'));
    await expectOk(t, '部门审核');
    assert.equal((await t.locator('#review-status').innerText()).trim(), '已发布');
    assert.ok((await t.locator('#matches-experts tr.match').count()) > 0, 'experts match the 难题');
    await shot(t, 'tech/04-matches', t.locator('#matches-achievements'));

    // The enterprise sees the matches and asks for a docking with the top expert.
    await go(e, walk.problemPath);
    const top = e.locator('#matches-experts tr.match').first();
    await shot(e, 'enterprise/03-matches', e.locator('#matches-experts'));
    await submitAndWait(e, top.locator('button[type=submit]'));
    await expectOk(e, '推荐对接');
    assert.match(new URL(e.url()).pathname, /^\/docking\/dockings\/\d+$/);
    walk.dockingPath = new URL(e.url()).pathname;
    assert.equal((await e.locator('#stage').innerText()).trim(), '推荐');
    await shot(e, 'enterprise/04-docking');

    // The 科技局 moves the docking on and registers the contract.
    await go(t, walk.dockingPath);
    await shot(t, 'tech/05-docking');
    for (const stage of ['意向沟通', '对接洽谈', '签订合作意向书']) {
      await submitAndWait(t, t.locator('form#form-move button[type=submit]'));
      await expectOk(t, `moving to ${stage}`);
      assert.equal((await t.locator('#stage').innerText()).trim(), stage);
    }
    const c = t.locator('form#form-contract');
    await c.locator('input[name=contract_no]').fill(`2026410100000${Date.now() % 10000}`);
    await c.locator('select[name=kind]').selectOption('技术开发');
    await c.locator('input[name=amount_wan]').fill('80');
    await c.locator('input[name=technical_income_wan]').fill('60');
    await shot(t, 'tech/06-contract', c);
    await submitAndWait(t, c.locator('button[type=submit]'));
    await expectOk(t, '登记技术合同');
    await submitAndWait(t, t.locator('form#form-move button[type=submit]'));
    await expectOk(t, 'moving to 签订技术合同');
    assert.equal((await t.locator('#stage').innerText()).trim(), '签订技术合同');

    await go(t, '/docking/stats');
    assert.equal(await t.locator('.big[data-label="技术合同成交额"]').count(), 1);
    await shot(t, 'tech/07-stats');

    // 上报数: a figure from the district's report, kept beside 在库数 with its source.
    const bl = t.locator('form#baseline-technical_income');
    await bl.locator('[name=value]').fill('56000');
    await bl.locator('[name=as_of]').fill('2020-12-31');
    await bl.locator('[name=source]').fill('二七区 2020 年底科技工作上报材料（手册示例）');
    await shot(t, 'tech/08-baseline', bl);
    await submitAndWait(t, bl.locator('button[type=submit]'));
    await expectOk(t, '录入上报数');
    const gap = await t.locator('.figure[data-figure="technical_income"] .gap').innerText();
    assert.ok(gap.includes('上报 56000 万元') && gap.includes('待补录'), gap);

    await go(t, '/docking/campaigns');
    const g = t.locator('form#form-campaign');
    await g.locator('[name=title]').fill('2027年度企业技术难题征集（示例）');
    await g.locator('[name=target]').selectOption({ label: '难题库' });
    await g.locator('[name=starts_on]').fill(beijingToday());
    await g.locator('[name=ends_on]').fill(addDays(beijingToday(), 60));
    await g.locator('[name=validity_days]').fill('365');
    await g.locator('[name=description]').fill('面向全区企业征集技术难题，可在线填报或下载 Excel 模板填报。');
    await shot(t, 'tech/01-campaign', g);
    await submitAndWait(t, g.locator('button[type=submit]'));
    await expectOk(t, '发起征集');
    assert.ok((await t.locator('main', { hasText: '2027年度企业技术难题征集（示例）' }).count()) > 0);
  } finally {
    await ent.context.close();
    await tech.context.close();
  }
});

// ---------------------------------------------------------------------------------------------
// 高校院所: 专家 and 成果, 联系方式授权

test('高校院所提交专家和成果信息，确认联系方式授权', { timeout: TEST_TIMEOUT_MS }, async () => {
  const { context, page } = await signIn('gaoxiao');
  try {
    await go(page, '/docking/experts');
    const x = page.locator('form#form-expert');
    await x.locator('[name=name]').fill('华北水利水电大学讲师（示例七）');
    await x.locator('[name=title]').fill('讲师');
    await x.locator('[name=disciplines]').fill('机械工程');
    await x.locator('[name=keywords]').fill('结构优化；轻量化');
    await x.locator('[name=fields]').fill('工程机械结构设计与优化');
    await x.locator('[name=phone]').fill('0371-60000007');
    await x.locator('[name=share_on_consent]').check();
    await shot(page, 'institution/01-expert', x);
    await submitAndWait(page, x.locator('button[type=submit]'));
    await expectOk(page, '提交专家');

    await go(page, '/docking/achievements');
    const a = page.locator('form#form-achievement');
    await a.locator('[name=title]').fill('工程机械臂架拓扑优化设计方法（示例）');
    await a.locator('[name=kind]').selectOption('技术');
    await a.locator('[name=abstract]').fill('基于拓扑优化和焊接变形预测的臂架结构设计方法，在同等强度下可减重 10%～20%。');
    await a.locator('[name=keywords]').fill('拓扑优化；轻量化；臂架');
    await a.locator('[name=discipline]').fill('机械工程');
    await a.locator('[name=maturity]').selectOption({ index: 2 });
    await a.locator('[name=transfer_modes]').first().check();
    await a.locator('[name=price_min_wan]').fill('30');
    await a.locator('[name=price_max_wan]').fill('60');
    await shot(page, 'institution/02-achievement', a);
    await submitAndWait(page, a.locator('button[type=submit]'));
    await expectOk(page, '提交成果');
    assert.match(new URL(page.url()).pathname, /^\/docking\/achievements\/\d+$/);
    assert.equal((await page.locator('#review-status').innerText()).trim(), '待形式审核');
    await shot(page, 'institution/03-submitted');

    // The expert agrees to share his contacts with an enterprise he is docked with (a 待办).
    await go(page, '/todo');
    const ask = page.locator('#todo-records tr', { hasText: '联系方式' }).first();
    await shot(page, 'institution/04-consent-todo');
    await Promise.all([page.waitForURL(/\/docking\/dockings\/\d+/), ask.locator('a').first().click()]);
    const share = page.locator('form#form-share');
    assert.equal(await share.count(), 1, 'the docking asks for consent');
    await shot(page, 'institution/05-consent', share);
    await submitAndWait(page, share.locator('button[type=submit]'));
    await expectOk(page, '联系方式授权');
  } finally {
    await context.close();
  }
});

// ---------------------------------------------------------------------------------------------
// 三员: 系统管理员, 安全管理员, 审计管理员

test('组织部：优秀年轻干部库、干部档案、班子结构', { timeout: TEST_TIMEOUT_MS }, async () => {
  const org = await signIn('zuzhibu', '/cadres');
  try {
    const p = org.page;
    await go(p, '/cadres?pool=section');
    assert.match(await p.locator('#pool-filter').innerText(), /科级优秀年轻干部库（在库 8 人）/);
    await shot(p, 'org_dept/01-pool', p.locator('#cadres'));
    await p.locator('#cadres tbody a, #cadres tr a').first().click();
    await p.waitForLoadState('load');
    await shot(p, 'org_dept/02-cadre', p.locator('form#form-cadre'));
    await go(p, '/teams');
    assert.match(await p.locator('#teams-total').innerText(), /35 岁以下 8 人，占 36\.36%/);
    await shot(p, 'org_dept/03-teams', p.locator('#teams'));
    // 历练: the year's 上报数 beside 在库数, drillable to the people; a 专班 with its tasks.
    await go(p, '/cadres/experiences');
    const training = p.locator('#figure-table tr[data-key=training]');
    assert.equal(await training.locator('input').inputValue(), '200');
    assert.equal((await training.locator('.recorded').innerText()).trim(), '28');
    await shot(p, 'org_dept/04-figures', p.locator('#form-figures'));
    await training.locator('.recorded a').click();
    await p.waitForLoadState('load');
    assert.match(await p.locator('#people').innerText(), /参加调训的人员（28 人）/);
    await shot(p, 'org_dept/05-people', p.locator('#people-table'));
    await go(p, '/cadres/experiences?kind=task_force');
    await p.locator('#experiences a', { hasText: '防汛救灾专班' }).click();
    await p.waitForLoadState('load');
    assert.equal(await p.locator('#linked-tasks li').count(), 2);
    await shot(p, 'org_dept/06-task-force', p.locator('main'));
    // A roster with a wrong check character: refused, the row and column named, nothing imported.
    await go(p, '/cadres');
    const before = await p.locator('#cadres tr[data-person]').count();
    const csv = '单位,姓名,职务,身份证号,学历,专业,职级,入职途径,参加工作时间,入库,入库理由\n'
      + '马寨镇,马寨镇新进干部（示例）,科员,410103199601010005,大学本科,,一级科员,选调生,2018-07-01,,\n';
    await p.locator('#form-import input[type=file]')
      .setInputFiles({ name: '干部名册.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await submitAndWait(p, p.locator('#form-import button[type=submit]'));
    assert.match(await p.locator('#import-errors').innerText(), /第 2 行「身份证号」/);
    assert.equal(await p.locator('#cadres tr[data-person]').count(), before);
  } finally {
    await org.context.close();
  }
});

test('三员：组织机构与账号、工作日历、通报模板、安全设置、数据范围、在线用户、审计日志', { timeout: TEST_TIMEOUT_MS }, async () => {
  const admin = await signIn('admin');
  try {
    const p = admin.page;
    await go(p, '/org');
    await shot(p, 'admins/01-org');
    // A new person first, then the account that person signs in with.
    const person = p.locator('form#form-add-person');
    await person.locator('[name=name]').fill('马寨镇党政办联络员（示例）');
    await person.locator('[name=post]').fill('党政办干事');
    await chooseByText(person.locator('[name=unit_id]'), '马寨镇');
    await shot(p, 'admins/02-person', person);
    await submitAndWait(p, person.locator('button[type=submit]'));
    await expectOk(p, '新增人员');
    const u = p.locator('form#form-add-user');
    await u.locator('[name=username]').fill('mzz_lly2');
    await u.locator('[name=password]').fill('Chushi#2026x');
    await chooseByText(u.locator('[name=person_id]'), '马寨镇党政办联络员（示例）');
    await chooseByText(u.locator('[name=role]'), '联络员');
    await shot(p, 'admins/03-account', u);
    await submitAndWait(p, u.locator('button[type=submit]'));
    await expectOk(p, '新增账号');
    const account = p.locator('main tr', { hasText: 'mzz_lly2' });
    assert.equal(await account.count(), 1, 'the account is listed');
    assert.match(await account.innerText(), /马寨镇党政办联络员（示例）/);

    await go(p, '/calendar');
    assert.equal(await p.locator('form#form-day').count(), 1);
    await shot(p, 'admins/04-calendar');
    await shot(p, 'admins/05-rules', p.locator('form#form-rules'));

    await go(p, '/imports');
    const tpl = p.locator('form#form-template');
    assert.equal(await tpl.count(), 1, 'the administrator replaces the 通报模板');
    await shot(p, 'admins/06-template', tpl.locator('xpath=..'));
  } finally {
    await admin.context.close();
  }

  const sec = await signIn('anquan', '/online');
  try {
    const p = sec.page;
    assert.ok((await p.locator('#online tr').count()) > 1, 'sessions are listed');
    await shot(p, 'admins/07-online', p.locator('#online'));
    await shot(p, 'admins/08-security', p.locator('form#form-security'));
    await shot(p, 'admins/09-data-scopes', p.locator('#data-scopes'));
  } finally {
    await sec.context.close();
  }

  const audit = await signIn('shenji', '/audit');
  try {
    const p = audit.page;
    assert.match(await p.locator('#audit-verify').innerText(), /\S/);
    await shot(p, 'admins/10-audit');
    await go(p, '/audit?log=login');
    await shot(p, 'admins/11-login-log', p.locator('#login-log'));
  } finally {
    await audit.context.close();
  }
});

// ---------------------------------------------------------------------------------------------
// The manual shows exactly the pictures this run took.

/** Every image a page of the book shows, as its path under src/. */
async function referencedImages() {
  const refs = new Map(); // path under src/ -> the page showing it
  const walkDir = async (dir) => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'shots') await walkDir(p);
      } else if (e.name.endsWith('.md')) {
        const text = await readFile(p, 'utf8');
        for (const m of text.matchAll(/!\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)|<img[^>]*\ssrc="([^"]+)"/g)) {
          const abs = path.resolve(path.dirname(p), m[1] ?? m[2]);
          const target = path.relative(BOOK_SRC, abs).split(path.sep).join('/');
          refs.set(target, path.relative(BOOK_SRC, p));
        }
      }
    }
  };
  await walkDir(BOOK_SRC);
  return refs;
}

/** Every file under src/shots/, as its path under src/. */
async function shotFiles() {
  const out = [];
  const walkDir = async (dir) => {
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) await walkDir(p);
      else out.push(path.relative(BOOK_SRC, p).split(path.sep).join('/'));
    }
  };
  await walkDir(SHOTS);
  return out;
}

test('手册引用的每张截图都由本次运行生成，本次生成的每张截图都被手册引用', async () => {
  const refs = await referencedImages();
  assert.ok(refs.size > 0, 'the manual shows no picture');
  const found = {
    // A step removed from this file or renamed, or a test above that failed before its picture.
    shownButNotTaken: [...refs].filter(([img]) => !written.has(img)).map(([img, page]) => `${page}: ${img}`),
    takenButNotShown: [...written].filter((img) => !refs.has(img)),
    // Left over from an older run: delete them.
    staleFiles: (await shotFiles()).filter((f) => !written.has(f)),
  };
  assert.deepEqual(found, { shownButNotTaken: [], takenButNotShown: [], staleFiles: [] });
});
