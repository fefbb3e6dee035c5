// Browser tests for the Xietong server: node:test + playwright-core driving Debian's chromium.
//
// Starts the server and browser through harness.mjs, then walks the supervision flow as the
// people who use it: a 联络员 receives and decomposes a task,
// another unit's 联络员 is refused, bad input is refused with the field named, and a form post
// without the CSRF token is refused.
//
// Run alone (from the repository root, after `cargo build -p xietong`):
//   XIETONG_BIN=$PWD/target/debug/xietong node --test tests/browser/supervision.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  ARTIFACTS, TEST_TIMEOUT_MS, beijingNow, beijingToday, api, apiOk, apiLogin, tail, browserLogin, submitAndWait, errorFlashes,
  startServerAndBrowser, stopAll,
} from './harness.mjs';

// Shared facts read from the API once.
let supervisorToken = null;
const units = {}; // code -> unit
let taskDeadline = null; // YYYY-MM-DD, a working day ~80 working hours from now
let docSeq = 0;

// ---------------------------------------------------------------------------------------------
// Helpers

async function getTask(id, token = supervisorToken) {
  const body = await apiOk('GET', `/api/tasks/${id}`, { token });
  assert.ok(body && body.task, `GET /api/tasks/${id} has no "task": ${JSON.stringify(body).slice(0, 500)}`);
  return body;
}

/** 立项并交办 as the supervisor: a task led by 建设和交通局. Returns its id. */
async function createAssignedTask(label) {
  docSeq += 1;
  const year = beijingToday().slice(0, 4);
  const body = await apiOk(
    'POST',
    '/api/tasks',
    {
      token: supervisorToken,
      body: {
        title: `浏览器测试任务：${label}`,
        description: `由浏览器测试创建（${label}）。`,
        source_kind: 'meeting',
        doc_no: `浏览器测试〔${year}〕${Date.now()}${docSeq}号`,
        source_title: '',
        source_date: beijingToday(),
        category_id: null,
        lead_unit_id: units.jsj.id,
        co_unit_ids: [],
        leader_person_id: null,
        report_cycle: 'weekly',
        deadline: taskDeadline,
        assign_now: true,
      },
    },
    [201],
  );
  assert.ok(Number.isInteger(body?.id), `POST /api/tasks gave no id: ${JSON.stringify(body)}`);
  return body.id;
}

async function openTask(page, id) {
  const res = await page.goto(`/tasks/${id}`);
  assert.equal(res?.status(), 200, `GET /tasks/${id} answered ${res?.status()}`);
  return res;
}

async function attr(page, selector, name) {
  const loc = page.locator(selector);
  assert.equal(await loc.count(), 1, `expected exactly one ${selector} on ${page.url()}`);
  return loc.getAttribute(name);
}


/** Assert `#task-status[data-status]`, showing any error message on the page when it is wrong. */
async function assertStatus(page, expected, when) {
  const got = await attr(page, '#task-status', 'data-status');
  if (got !== expected) {
    assert.fail(`${when}: #task-status data-status is ${got}, expected ${expected}; errors on page: ${JSON.stringify(await errorFlashes(page))}`);
  }
}

/** Fill the first decomposition row: dept = first real option, person = first of that dept. */
async function fillDecomposeRow(page, { title, deadline }) {
  const form = page.locator('form#form-decompose');
  assert.equal(await form.count(), 1, `no form#form-decompose on ${page.url()}`);
  await form.locator('input[name=sub_title]').first().fill(title);

  const deptSelect = form.locator('select[name=sub_dept]').first();
  const depts = await deptSelect.locator('option').evaluateAll((os) => os.map((o) => o.value).filter((v) => v !== ''));
  assert.ok(depts.length > 0, 'the 责任科室 select has no options');
  const dept = depts[0];
  await deptSelect.selectOption(dept);

  const personSelect = form.locator('select[name=sub_person]').first();
  const people = await personSelect
    .locator('option')
    .evaluateAll((os) => os.map((o) => ({ value: o.value, unit: o.getAttribute('data-unit') })));
  const person = people.find((p) => p.value !== '' && p.unit === dept);
  assert.ok(person, `no 责任人 option with data-unit="${dept}" among ${JSON.stringify(people)}`);
  await personSelect.selectOption(person.value);

  await form.locator('input[name=sub_deadline]').first().fill(deadline);
  return { dept, person: person.value };
}

// ---------------------------------------------------------------------------------------------
// Server and browser

before(async () => {
  await startServerAndBrowser();
  // Facts every test needs.
  supervisorToken = await apiLogin('duchaju');
  const list = await apiOk('GET', '/api/units', { token: supervisorToken });
  assert.ok(Array.isArray(list), `GET /api/units is not a list: ${JSON.stringify(list).slice(0, 300)}`);
  for (const u of list) units[u.code] = u;
  assert.ok(units.jsj, 'no unit with code jsj (建设和交通局) in the demo data');
  assert.ok(units.scjgj, 'no unit with code scjgj (市场监管局) in the demo data');

  const from = encodeURIComponent(beijingNow());
  const due = await apiOk('GET', `/api/calendar/due?from=${from}&working_hours=80`, { token: supervisorToken });
  assert.match(String(due?.due), /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/, `bad /api/calendar/due answer: ${JSON.stringify(due)}`);
  taskDeadline = due.due.slice(0, 10);
});

after(stopAll);

test('联络员签收并分解任务，2小时分解计时停止（按时完成）', { timeout: TEST_TIMEOUT_MS }, async () => {
  const id = await createAssignedTask('签收并分解');
  const { context, page } = await browserLogin('jsj_lly');
  try {
    await openTask(page, id);
    await assertStatus(page, 'assigned', 'after 交办');
    assert.equal(await attr(page, '#decomposition-clock', 'data-state'), 'running', 'the 2-hour clock runs from the hand-over');

    // 签收
    const receive = page.locator('form#form-receive');
    assert.equal(await receive.count(), 1, 'no form#form-receive for the lead unit liaison');
    await submitAndWait(page, receive.locator('button[type=submit]').first());
    assert.equal(new URL(page.url()).pathname, `/tasks/${id}`, '签收 should come back to the task page');
    await assertStatus(page, 'received', 'after 签收');
    assert.equal(await attr(page, '#decomposition-clock', 'data-state'), 'running', 'receiving does not stop the 2-hour clock');

    // 分解
    const row = await fillDecomposeRow(page, { title: '测试子任务：编制施工方案', deadline: taskDeadline });
    await submitAndWait(page, page.locator('form#form-decompose button[type=submit]').first());
    assert.equal(new URL(page.url()).pathname, `/tasks/${id}`, '分解 should come back to the task page');
    await assertStatus(page, 'in_progress', 'after 分解');
    assert.equal(await attr(page, '#decomposition-clock', 'data-state'), 'met', 'decomposing in time stops the clock as met');
    const clockText = (await page.locator('#decomposition-clock').innerText()).trim();
    assert.ok(clockText.length > 0, '#decomposition-clock shows no text');
    assert.deepEqual(await errorFlashes(page), [], 'no error message after a good decomposition');
    await page.screenshot({ path: path.join(ARTIFACTS, 'decomposed.png'), fullPage: true });

    // The API agrees, for the liaison and for the supervisor.
    const liaisonToken = await apiLogin('jsj_lly');
    for (const token of [liaisonToken, supervisorToken]) {
      const t = await getTask(id, token);
      assert.equal(t.task.status, 'in_progress');
      assert.ok(Array.isArray(t.subtasks), `"subtasks" is not a list: ${JSON.stringify(t.subtasks)}`);
      assert.equal(t.subtasks.length, 1);
      assert.equal(t.decomposition_clock?.state, 'met');
      const s = t.subtasks[0];
      if (s && typeof s === 'object') {
        if ('title' in s) assert.equal(s.title, '测试子任务：编制施工方案');
        if ('dept_unit_id' in s) assert.equal(String(s.dept_unit_id), row.dept);
        if ('person_id' in s) assert.equal(String(s.person_id), row.person);
      }
    }
  } finally {
    await context.close();
  }
});

test('其他单位的联络员无权查看或操作本任务', { timeout: TEST_TIMEOUT_MS }, async () => {
  const id = await createAssignedTask('越权访问');
  const initial = await getTask(id);
  const { context, page } = await browserLogin('scjgj_lly');
  try {
    const res = await page.goto(`/tasks/${id}`);
    assert.equal(res?.status(), 403, `another unit's liaison got ${res?.status()} for /tasks/${id}`);
    assert.ok((await page.content()).includes('无权限'), 'the 403 page should say 无权限');
    assert.equal(await page.locator('form#form-receive, form#form-decompose').count(), 0, 'no action forms on a refused page');
  } finally {
    await context.close();
  }

  const token = await apiLogin('scjgj_lly');
  const read = await api('GET', `/api/tasks/${id}`, { token });
  assert.equal(read.status, 403, `GET /api/tasks/${id} as scjgj_lly answered ${read.status}: ${tail(read.text, 300)}`);
  assert.equal(typeof read.body?.error, 'string', 'a refusal carries {"error": "..."}');
  const write = await api('POST', `/api/tasks/${id}/actions/report`, { token, body: { progress: 50, text: '越权' } });
  assert.equal(write.status, 403, `report as scjgj_lly answered ${write.status}: ${tail(write.text, 300)}`);

  const afterwards = await getTask(id);
  assert.equal(afterwards.task.progress, initial.task.progress, 'a refused report must not change the progress');
  assert.equal(afterwards.task.status, initial.task.status, 'a refused report must not change the status');
});

test('分解时子任务名称为空被拒绝，并指明字段', { timeout: TEST_TIMEOUT_MS }, async () => {
  const id = await createAssignedTask('空白子任务名称');
  const liaisonToken = await apiLogin('jsj_lly');
  await apiOk('POST', `/api/tasks/${id}/actions/receive`, { token: liaisonToken, body: {} });
  assert.equal((await getTask(id)).task.status, 'received');

  const { context, page } = await browserLogin('jsj_lly');
  try {
    await openTask(page, id);
    await assertStatus(page, 'received', 'after 签收 via the API');
    await fillDecomposeRow(page, { title: '', deadline: taskDeadline });
    // Let the empty title reach the server: the refusal under test is the server's.
    await page.locator('form#form-decompose').evaluate((f) => {
      f.noValidate = true;
    });
    await submitAndWait(page, page.locator('form#form-decompose button[type=submit]').first());
    const errors = await errorFlashes(page);
    assert.ok(
      errors.some((e) => e.includes('子任务的名称')),
      `expected a .flash.error naming 子任务的名称, got ${JSON.stringify(errors)} at ${page.url()}`,
    );
    await assertStatus(page, 'received', 'after a refused 分解');
  } finally {
    await context.close();
  }
  const t = await getTask(id);
  assert.equal(t.task.status, 'received');
  assert.equal((t.subtasks ?? []).length, 0, 'a refused decomposition adds no sub-task');
});

test('缺少 CSRF 令牌的表单提交被拒绝（403）', { timeout: TEST_TIMEOUT_MS }, async () => {
  const id = await createAssignedTask('CSRF');
  const { context, page } = await browserLogin('jsj_lly');
  try {
    await openTask(page, id);
    await assertStatus(page, 'assigned', 'after 交办');
    const actionPath = `/tasks/${id}/actions/receive`;
    const formAction = await page.locator('form#form-receive').evaluate((f) => f.action);
    assert.equal(new URL(formAction).pathname, actionPath, 'form#form-receive posts to the receive action');

    // The session cookie goes with page.request; the CSRF token does not.
    const forged = await page.request.post(actionPath, { form: {}, maxRedirects: 0 });
    assert.equal(forged.status(), 403, `a post without _csrf answered ${forged.status()}`);
    assert.equal((await getTask(id)).task.status, 'assigned', 'a refused post must not change the status');

    const wrong = await page.request.post(actionPath, { form: { _csrf: 'not-the-token' }, maxRedirects: 0 });
    assert.equal(wrong.status(), 403, `a post with a wrong _csrf answered ${wrong.status()}`);
    assert.equal((await getTask(id)).task.status, 'assigned');

    // Control: the same post with the page's token is accepted, so the 403s above were the CSRF check.
    const csrf = await page.locator('form#form-receive input[name=_csrf]').getAttribute('value');
    assert.ok(csrf, 'form#form-receive carries a hidden _csrf');
    const genuine = await page.request.post(actionPath, { form: { _csrf: csrf }, maxRedirects: 0 });
    assert.ok(genuine.status() < 400, `the same post with the page's _csrf answered ${genuine.status()}`);
    assert.equal((await getTask(id)).task.status, 'received');
  } finally {
    await context.close();
  }
});

test('督查局上传清单：有错误的行全部列出且不导入，改正后导入并逐项交办', { timeout: TEST_TIMEOUT_MS }, async () => {
  const { context, page } = await browserLogin('duchaju');
  try {
    const res = await page.goto('/imports');
    assert.equal(res?.status(), 200);
    const form = page.locator('form#form-import-list');
    assert.equal(await form.count(), 1, 'the 督查局 sees the list import form');
    const name = `浏览器测试清单${Date.now()}`;
    await form.locator('input[name=name]').fill(name);
    await form.locator('input[name=doc_no]').fill(`测试清单〔2026〕${Date.now() % 100000}号`);
    const header = '事项名称,具体内容,责任单位,配合单位,汇报周期,完成时限';
    const bad = [header, `某户房屋重建,受损,马寨镇,,每月,${taskDeadline}`, `另一户重建,受损,不存在的乡,,每月,${taskDeadline}`, `第三户重建,受损,侯寨乡,,每年,${taskDeadline}`].join('\n');
    await form.locator('input[type=file]').setInputFiles({ name: '清单.csv', mimeType: 'text/csv', buffer: Buffer.from('\ufeff' + bad, 'utf8') });
    await submitAndWait(page, form.locator('button[type=submit]'));
    const errors = (await page.locator('#import-errors').innerText()).trim();
    assert.ok(errors.includes('第 3 行') && errors.includes('责任单位'), `row 3's unit is named: ${errors}`);
    assert.ok(errors.includes('第 4 行') && errors.includes('汇报周期'), `row 4's cycle is named: ${errors}`);
    const lists = await apiOk('GET', '/api/lists', { token: supervisorToken });
    assert.ok(!lists.some((l) => l.name === name), 'nothing imported from a file with bad rows');

    const good = [header, `某户房屋重建,受损,马寨镇,,每月,${taskDeadline}`, `第三户重建,受损,侯寨乡,,每月,${taskDeadline}`].join('\n');
    const form2 = page.locator('form#form-import-list');
    await form2.locator('input[name=name]').fill(name);
    await form2.locator('input[name=doc_no]').fill(`测试清单〔2026〕${(Date.now() % 100000) + 1}号`);
    await form2.locator('input[type=file]').setInputFiles({ name: '清单.csv', mimeType: 'text/csv', buffer: Buffer.from(good, 'utf8') });
    await submitAndWait(page, form2.locator('button[type=submit]'));
    assert.match(new URL(page.url()).pathname, /^\/lists\/\d+$/, `a good import lands on the list page, not ${page.url()}`);
    assert.equal(await page.locator('#list-items tr').count(), 3, 'header and two items');
    await page.screenshot({ path: path.join(ARTIFACTS, 'list-imported.png'), fullPage: true });
  } finally {
    await context.close();
  }
});

test('区领导在督导看板看到分包单位亮灯，点击红灯下钻到对应任务', { timeout: TEST_TIMEOUT_MS }, async () => {
  const { context, page } = await browserLogin('fqz_cj');
  try {
    const res = await page.goto('/dashboard');
    assert.equal(res?.status(), 200);
    assert.ok((await page.locator('#chart-lights rect').count()) > 0, 'the lights chart has bars');
    assert.ok((await page.locator('svg.chart-trend').count()) > 0, 'a ranking trend chart is drawn');
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    const red = page.locator('#chart-lights a[href*="light=red"]');
    const hrefs = await red.evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    const withRed = [];
    for (const [i, a] of (await red.all()).entries()) {
      const w = Number(await a.locator('rect').getAttribute('width'));
      if (w > 0) withRed.push(hrefs[i]);
    }
    assert.ok(withRed.length > 0, 'some unit in the area has a red light');
    await page.goto(withRed[0]);
    const lights = await page.locator('#tasks span.light').evaluateAll((ss) => ss.map((s) => s.className));
    assert.ok(lights.length > 0, `the drill-down ${withRed[0]} lists tasks`);
    assert.ok(lights.every((c) => c.includes('red')), `only red tasks behind the red bar: ${JSON.stringify(lights)}`);
  } finally {
    await context.close();
  }
});

test('月度排名页可下钻到计分依据的任务，并生成 Word 通报', { timeout: TEST_TIMEOUT_MS }, async () => {
  const { context, page } = await browserLogin('duchaju');
  try {
    await page.goto('/rankings');
    const first = page.locator('#published a').first();
    assert.equal(await first.count(), 1, 'the demo publishes last month');
    await submitAndWait(page, first);
    assert.ok((await page.locator('#ranking-table tr[data-unit]').count()) > 0);
    const drill = page.locator('#ranking-table details a').first();
    assert.equal(await drill.count(), 1, 'each score links to its tasks');
    const href = await drill.getAttribute('href');
    const r = await page.request.get(href);
    assert.equal(r.status(), 200, `${href} opens`);
    const docx = await page.request.get(await page.locator('a[href$="notice.docx"]').getAttribute('href'));
    assert.equal(docx.status(), 200);
    assert.ok((await docx.body()).subarray(0, 2).toString() === 'PK', 'a .docx is a zip package');
  } finally {
    await context.close();
  }
});
