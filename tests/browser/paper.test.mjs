// Browser test of paper and batch work (issue 13, item 6): a 联络员 ticks tasks on 待办 with 全选 and
// receives them in one go (批量签收), sees each row's answer, and downloads the 督办通知单 from the task
// page; the 督查局 exports the ticked rows of the task list (批量导出).
//
// Run alone (from the repository root, after `cargo build -p xietong`):
//   XIETONG_BIN=$PWD/target/debug/xietong node --test tests/browser/paper.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import {
  ARTIFACTS, TEST_TIMEOUT_MS, beijingNow, beijingToday, apiOk, apiLogin, browserLogin, submitAndWait,
  startServerAndBrowser, stopAll,
} from './harness.mjs';

before(startServerAndBrowser);
after(stopAll);

test('联络员在待办中全选并批量签收，逐项看到结果，并下载督办通知单', { timeout: TEST_TIMEOUT_MS }, async () => {
  const sup = await apiLogin('duchaju');
  const units = Object.fromEntries((await apiOk('GET', '/api/units', { token: sup })).map((u) => [u.code, u]));
  const due = await apiOk('GET', `/api/calendar/due?from=${encodeURIComponent(beijingNow())}&working_hours=80`, { token: sup });
  const ids = [];
  for (const n of [1, 2]) {
    const created = await apiOk('POST', '/api/tasks', {
      token: sup,
      body: {
        title: `浏览器测试：批量签收任务${n}`, description: '批量签收测试', source_kind: 'meeting',
        doc_no: `批量签收测试〔${beijingToday().slice(0, 4)}〕${Date.now()}${n}号`, source_title: '区政府常务会议纪要',
        source_date: beijingToday(), category_id: null, lead_unit_id: units.jsj.id, co_unit_ids: [],
        leader_person_id: null, report_cycle: 'weekly', deadline: due.due.slice(0, 10), assign_now: true,
      },
    }, [201]);
    ids.push(created.id);
  }

  const { context, page } = await browserLogin('jsj_lly');
  try {
    await page.goto('/todo');
    const boxes = page.locator('input[form=batch][name=id]');
    assert.ok((await boxes.count()) >= 2, 'the 待办 rows can be ticked');
    await page.locator('#batch-all').check();
    for (const box of await boxes.all()) assert.ok(await box.isChecked(), '全选 ticks every row');
    await page.locator('#batch-all').uncheck();
    for (const id of ids) await page.locator(`input[form=batch][name=id][value="${id}"]`).check();
    await submitAndWait(page, page.locator('#batch-receive'));
    assert.equal(new URL(page.url()).pathname, '/tasks/batch/receive');
    const summary = await page.locator('h1').textContent();
    assert.ok(summary.includes('已签收 2 项，未办理 0 项'), `summary: ${summary}`);
    assert.equal(await page.locator('#batch-results tr.ok').count(), 2);
    await page.screenshot({ path: path.join(ARTIFACTS, 'paper-batch-receive.png'), fullPage: true });
    const lly = await apiLogin('jsj_lly');
    for (const id of ids) {
      const t = await apiOk('GET', `/api/tasks/${id}`, { token: lly });
      assert.equal(t.task.status, 'received', `task ${id} received`);
    }

    // The 督办通知单 from the task page.
    await page.goto(`/tasks/${ids[0]}`);
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#task-notice-docx').click()]);
    assert.ok(download.suggestedFilename().startsWith('督办通知单'), download.suggestedFilename());
    assert.ok(download.suggestedFilename().endsWith('.docx'));
    const file = path.join(ARTIFACTS, 'paper-task-order.docx');
    await download.saveAs(file);
    const bytes = await readFile(file);
    assert.equal(bytes.subarray(0, 2).toString(), 'PK', 'a .docx (zip) file');
  } finally {
    await context.close();
  }
});

test('督查局在任务列表勾选任务批量导出', { timeout: TEST_TIMEOUT_MS }, async () => {
  const { context, page } = await browserLogin('duchaju');
  try {
    await page.goto('/tasks?light=red');
    const href = await page.locator('#export').getAttribute('href');
    assert.equal(href, '/api/exports/tasks?light=red', 'the 导出 link carries the filter');
    const boxes = page.locator('input[form=batch][name=id]');
    assert.ok((await boxes.count()) >= 1, 'red tasks listed');
    await boxes.first().check();
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#batch-export').click()]);
    assert.ok(download.suggestedFilename().endsWith('.xlsx'), download.suggestedFilename());
    const file = path.join(ARTIFACTS, 'paper-batch-export.xlsx');
    await download.saveAs(file);
    assert.equal((await readFile(file)).subarray(0, 2).toString(), 'PK');
  } finally {
    await context.close();
  }
});
