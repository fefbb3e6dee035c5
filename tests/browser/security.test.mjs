// Browser test of the 数据范围 setting: the 安全管理员 narrows the 单位联络员 role from
// 本单位及以下 to 本单位 on the 在线用户 page, and a 联络员 who saw a task of his 内设科室 a moment
// ago is refused it — in the list and on the task page — at his next request.
//
// Run alone (from the repository root, after `cargo build -p xietong`):
//   XIETONG_BIN=$PWD/target/debug/xietong node --test tests/browser/security.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  ARTIFACTS, TEST_TIMEOUT_MS, beijingNow, beijingToday, api, apiOk, apiLogin, browserLogin, submitAndWait, errorFlashes,
  startServerAndBrowser, stopAll,
} from './harness.mjs';

before(startServerAndBrowser);
after(stopAll);

test('安全管理员把联络员的数据范围改为本单位，内设科室的任务随即不可见', { timeout: TEST_TIMEOUT_MS }, async () => {
  const sup = await apiLogin('duchaju');
  const units = Object.fromEntries((await apiOk('GET', '/api/units', { token: sup })).map((u) => [u.code, u]));
  const due = await apiOk('GET', `/api/calendar/due?from=${encodeURIComponent(beijingNow())}&working_hours=80`, { token: sup });
  const created = await apiOk('POST', '/api/tasks', {
    token: sup,
    body: {
      title: '浏览器测试任务：道路科牵头的任务', description: '数据范围测试', source_kind: 'meeting',
      doc_no: `数据范围测试〔${beijingToday().slice(0, 4)}〕${Date.now()}号`, source_title: '', source_date: beijingToday(),
      category_id: null, lead_unit_id: units.jsj_dlk.id, co_unit_ids: [], leader_person_id: null,
      report_cycle: 'weekly', deadline: due.due.slice(0, 10), assign_now: true,
    },
  }, [201]);
  const id = created.id;

  // Before: 建设和交通局's liaison sees his 道路科's task.
  const liaison = await browserLogin('jsj_lly');
  try {
    let res = await liaison.page.goto(`/tasks/${id}`);
    assert.equal(res?.status(), 200, `before the change /tasks/${id} answered ${res?.status()}`);

    // The 安全管理员 sets 本单位 for the 单位联络员 role on the 在线用户 page.
    const admin = await browserLogin('anquan', '/online');
    try {
      res = await admin.page.goto('/online');
      assert.equal(res?.status(), 200);
      const row = admin.page.locator('#scope-liaison');
      assert.equal(await row.count(), 1, 'a row for the 单位联络员 role');
      assert.equal(await row.locator('select[name=kind]').inputValue(), 'unit_and_below', 'the default is 本单位及以下');
      assert.equal(await admin.page.locator('#scope-enterprise select').count(), 0, 'the enterprise role is fixed, no form');
      await row.locator('select[name=kind]').selectOption('unit');
      await submitAndWait(admin.page, row.locator('button[type=submit]'));
      assert.deepEqual(await errorFlashes(admin.page), []);
      assert.ok((await admin.page.locator('.flash.ok').textContent()).includes('单位联络员的数据范围已保存'));
      assert.equal(await admin.page.locator('#scope-liaison select[name=kind]').inputValue(), 'unit');

      // 自定 without a unit is refused with the reason, and the setting stays as it was.
      await admin.page.locator('#scope-leader select[name=kind]').selectOption('custom');
      await submitAndWait(admin.page, admin.page.locator('#scope-leader button[type=submit]'));
      const errors = await errorFlashes(admin.page);
      assert.ok(errors.some((e) => e.includes('至少选择一个单位')), `errors: ${JSON.stringify(errors)}`);
      const scopes = await apiOk('GET', '/api/data-scopes', { token: await apiLogin('anquan') });
      assert.equal(scopes.find((s) => s.role === 'leader').kind, 'all');
      await admin.page.screenshot({ path: path.join(ARTIFACTS, 'data-scopes.png'), fullPage: true });
    } finally {
      await admin.context.close();
    }

    // After: the same signed-in liaison is refused the task, and it leaves his list.
    res = await liaison.page.goto(`/tasks/${id}`);
    assert.equal(res?.status(), 403, `after the change /tasks/${id} answered ${res?.status()}`);
    assert.ok((await liaison.page.content()).includes('数据范围'), 'the refusal names the 数据范围');
    res = await liaison.page.goto('/tasks');
    assert.equal(res?.status(), 200);
    assert.equal(await liaison.page.locator(`a[href="/tasks/${id}"]`).count(), 0, 'the task is no longer listed');
    const read = await api('GET', `/api/tasks/${id}`, { token: await apiLogin('jsj_lly') });
    assert.equal(read.status, 403);
  } finally {
    await liaison.context.close();
  }
});
