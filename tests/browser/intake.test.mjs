// Browser test of 从文件立项 (issue 17, item 1): the 督查局 pastes a 会议纪要, reads the draft beside
// the document with each item's words highlighted, is refused naming the item when a deadline falls
// on a Saturday (with what was typed kept), mends it and confirms; the new tasks are listed, handed
// over. The page fits a 390 px phone.
//
// Run alone (from the repository root, after `cargo build -p xietong`):
//   XIETONG_BIN=$PWD/target/debug/xietong node --test tests/browser/intake.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TEST_TIMEOUT_MS, browserLogin, errorFlashes, startServerAndBrowser, stopAll, submitAndWait } from './harness.mjs';

before(startServerAndBrowser);
after(stopAll);

/** A date in Beijing time, `days` from today. */
function day(days) {
  return new Date(Date.now() + 8 * 3600_000 + days * 86400_000);
}
const ymd = (d) => d.toISOString().slice(0, 10);
const md = (d) => `${d.getUTCMonth() + 1}月${d.getUTCDate()}日`;

/** The first Saturday at least six weeks ahead: a deadline the 督查局 must move. */
const SATURDAY = (() => {
  let d = day(42);
  while (d.getUTCDay() !== 6) d = new Date(d.getTime() + 86400_000);
  return d;
})();
const FRIDAY = new Date(SATURDAY.getTime() - 86400_000);

/** An invented 纪要 dated two days ago, with one deadline a month ahead and one on a Saturday. */
function minutes() {
  const doc = day(-2);
  const y = doc.getUTCFullYear();
  return [
    '二七区人民政府专题会议纪要', '', `二七政专〔${y}〕77号`, '', `二七区人民政府办公室　　　　${y}年${md(doc)}`, '',
    `　　${y}年${md(doc)}上午，常务副区长主持召开专题会议。现纪要如下：`, '',
    '　　一、关于背街小巷照明',
    `　　会议要求，由区城管局牵头，大学路街道配合，于${md(FRIDAY)}前完成背街小巷照明设施排查修复。`, '',
    '　　二、关于校园周边交通',
    `　　会议要求，区教育局会同交警三大队，于${md(SATURDAY)}前完成中小学周边交通安全排查。`, '',
    '　　三、关于财政收支', '　　会议听取了区财政局关于财政收支情况的汇报。', '',
  ].join('\n');
}

test('督查局粘贴会议纪要，核对草稿后一次立项并交办', { timeout: TEST_TIMEOUT_MS }, async () => {
  const sup = await browserLogin('duchaju');
  try {
    const page = sup.page;
    await page.goto('/intake');
    await page.locator('#intake-form textarea[name=text]').fill(minutes());
    await submitAndWait(page, page.locator('#intake-form button[type=submit]'));
    assert.equal(await page.locator('.intake-item').count(), 2, await page.content());
    assert.ok((await page.locator('mark.unit[data-item="1"]').first().textContent()).includes('城管局'));
    assert.equal(await page.locator('mark.due[data-item="2"]').textContent(), `${md(SATURDAY)}前`);
    assert.ok((await page.locator('#intake-non-tasks').textContent()).includes('听取了区财政局'));
    assert.ok((await page.locator('#item-2').textContent()).includes('不是工作日'), 'a Saturday is flagged');

    // Confirmed as drafted: refused, naming the item; the clerk's title stays.
    await page.locator('input[name=title_0]').fill('背街小巷照明设施排查修复（核对）');
    await submitAndWait(page, page.locator('#intake-confirm button[type=submit]'));
    const errors = await errorFlashes(page);
    assert.ok(errors.some((e) => e.includes('第 2 项「办理期限」')), JSON.stringify(errors));
    assert.equal(await page.locator('input[name=title_0]').inputValue(), '背街小巷照明设施排查修复（核对）');

    // Mended to the Friday before: both created and handed over, listed by their 文号.
    assert.equal(await page.locator('input[name=deadline_1]').inputValue(), ymd(SATURDAY));
    await page.locator('input[name=deadline_1]').fill(ymd(FRIDAY));
    await submitAndWait(page, page.locator('#intake-confirm button[type=submit]'));
    assert.equal(new URL(page.url()).pathname, '/tasks');
    assert.ok((await page.locator('.flash.ok').textContent()).includes('已立项并交办 2 项'));
    assert.ok((await page.locator('main').textContent()).includes('背街小巷照明设施排查修复（核对）'));
  } finally {
    await sup.context.close();
  }
});

test('从文件立项页在 390 像素手机上不出现横向滚动', { timeout: TEST_TIMEOUT_MS }, async () => {
  const phone = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };
  const sup = await browserLogin('duchaju', '/todo', phone);
  try {
    const page = sup.page;
    await page.goto('/intake');
    await page.locator('#intake-form textarea[name=text]').fill(minutes());
    await submitAndWait(page, page.locator('#intake-form button[type=submit]'));
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `the draft is ${width} px wide at 390`);
  } finally {
    await sup.context.close();
  }
});
