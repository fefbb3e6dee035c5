// Browser test of 消息推送: the 系统管理员 adds a 钉钉 group robot on /notify, presses 测试发送 while
// the robot's address does not answer and reads why in Chinese, with what was typed kept when a
// channel is refused; a liaison opens 我的消息设置 and subscribes to the calendar of his deadlines.
//
// Run alone (from the repository root, after `cargo build -p xietong`):
//   XIETONG_BIN=$PWD/target/debug/xietong node --test tests/browser/notify.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  TEST_TIMEOUT_MS, env, browserLogin, submitAndWait, errorFlashes, startServerAndBrowser, stopAll,
} from './harness.mjs';

before(startServerAndBrowser);
after(stopAll);

test('系统管理员添加钉钉群机器人，测试发送失败时页面用中文说明原因', { timeout: TEST_TIMEOUT_MS }, async () => {
  const admin = await browserLogin('admin');
  try {
    const page = admin.page;
    let res = await page.goto('/notify');
    assert.equal(res?.status(), 200);
    const form = page.locator('#channel-new');
    await form.locator('summary').click();
    // A 钉钉 robot without any security setting is refused, naming what is missing; the name stays.
    await form.locator('input[name=name]').fill('建设交通局工作群');
    await form.locator('select[name=kind]').selectOption('dingtalk_robot');
    await form.locator('select[name=unit_id]').selectOption({ label: '建设和交通局' });
    await form.locator('input[name=url]').fill('http://127.0.0.1:9/robot/send?access_token=test');
    await submitAndWait(page, form.locator('button[type=submit]'));
    let errors = await errorFlashes(page);
    assert.ok(errors.some((e) => e.includes('加签密钥或自定义关键词')), `errors: ${JSON.stringify(errors)}`);
    assert.equal(await page.locator('#channel-new input[name=name]').inputValue(), '建设交通局工作群');

    await page.locator('#channel-new input[name=secret]').fill('SECtest');
    await submitAndWait(page, page.locator('#channel-new button[type=submit]'));
    assert.deepEqual(await errorFlashes(page), []);
    assert.ok((await page.locator('.flash.ok').textContent()).includes('通道已添加'));
    const row = page.locator('#channels tr', { hasText: '建设交通局工作群' });
    assert.equal(await row.count(), 1);

    // Nothing listens at port 9: the test send fails, and the page says so in Chinese.
    await submitAndWait(page, row.locator('button', { hasText: '测试发送' }));
    errors = await errorFlashes(page);
    assert.ok(errors.some((e) => e.includes('测试发送失败') && e.includes('无法连接接收方')), `errors: ${JSON.stringify(errors)}`);
    assert.ok((await page.locator('#delivery-log').textContent()).includes('测试发送'), 'the attempt is in the log');
  } finally {
    await admin.context.close();
  }
});

test('系统管理员为人员设置推送地址，格式不对时说明原因并保留所填内容', { timeout: TEST_TIMEOUT_MS }, async () => {
  const admin = await browserLogin('admin');
  try {
    const page = admin.page;
    await page.goto('/notify');
    const form = page.locator('#address-form');
    await form.locator('select[name=person_id]').selectOption({ label: '建设和交通局 联络员 建设和交通局联络员（示例）' });
    await form.locator('select[name=kind]').selectOption('mobile');
    await form.locator('input[name=value]').fill('12345');
    await submitAndWait(page, form.locator('button[type=submit]'));
    const errors = await errorFlashes(page);
    assert.ok(errors.some((e) => e.includes('手机号应为 1 开头的 11 位数字')), JSON.stringify(errors));
    assert.equal(await page.locator('#address-form input[name=value]').inputValue(), '12345');
    await page.locator('#address-form input[name=value]').fill('13800000001');
    await submitAndWait(page, page.locator('#address-form button[type=submit]'));
    assert.deepEqual(await errorFlashes(page), []);
    const row = page.locator('#addresses tr', { hasText: '建设和交通局联络员' });
    assert.ok((await row.textContent()).includes('138****0001'), await row.textContent());
    assert.ok(!(await page.content()).includes('13800000001'), 'the whole number is never shown');
  } finally {
    await admin.context.close();
  }
});

test('联络员开通日历订阅，地址可被日历读取，撤销后失效', { timeout: TEST_TIMEOUT_MS }, async () => {
  const liaison = await browserLogin('jsj_lly');
  try {
    const page = liaison.page;
    const res = await page.goto('/notify/me');
    assert.equal(res?.status(), 200);
    await submitAndWait(page, page.locator('#calendar-feed button', { hasText: '开通日历订阅' }));
    const url = await page.locator('#feed-url').inputValue();
    assert.match(url, /\/feeds\/[0-9a-f]{64}\.ics$/);
    const ics = await fetch(new URL(url, env.baseURL)).then((r) => r.text());
    assert.ok(ics.startsWith('BEGIN:VCALENDAR') && ics.includes('【督办期限】'), ics.slice(0, 400));
    await submitAndWait(page, page.locator('#calendar-feed button', { hasText: '撤销' }));
    assert.ok((await page.locator('.flash.ok').textContent()).includes('日历订阅已撤销'));
    assert.equal((await fetch(new URL(url, env.baseURL))).status, 404);
  } finally {
    await liaison.context.close();
  }
});
