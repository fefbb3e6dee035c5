// Browser tests of the 产学研 docking platform, in Debian's chromium (see harness.mjs): an
// enterprise posts a technical problem (a bad form first), the 科技局 reviews and publishes it, the
// top matches show their reasons, a docking recommended from the matches is moved to a signed
// technical contract, and the statistics dashboard's contract total grows by the contract amount.
//
// Run alone (from the repository root, after `cargo build -p xietong`):
//   XIETONG_BIN=$PWD/target/debug/xietong node --test tests/browser/docking.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ARTIFACTS, TEST_TIMEOUT_MS, browserLogin, submitAndWait, errorFlashes, startServerAndBrowser, stopAll } from './harness.mjs';

before(startServerAndBrowser);
after(stopAll);

/** The 技术合同成交额 figure on the dashboard, in 万元. */
async function contractTotal(page) {
  const res = await page.goto('/docking/stats');
  assert.equal(res?.status(), 200, `GET /docking/stats answered ${res?.status()}`);
  const text = await page.locator('.big[data-label="技术合同成交额"]').innerText();
  const n = Number.parseFloat(text.replace(/[^\d.]/g, ''));
  assert.ok(Number.isFinite(n), `no number in the figure: ${text}`);
  return n;
}

async function expectOk(page, when) {
  const errors = await errorFlashes(page);
  assert.deepEqual(errors, [], `${when}: errors on ${page.url()}`);
}

test('企业提交难题，科技局审核发布，匹配附理由，对接推进到技术合同，统计总额随之变化', { timeout: TEST_TIMEOUT_MS * 2 }, async () => {
  // An enterprise lands on its 待办 (what waits for it), then opens the 难题库.
  const ent = await browserLogin('qiye', '/todo');
  const tech = await browserLogin('kejiju');
  try {
    // --- the enterprise posts; a too-short description comes back with the field named ------
    const p = ent.page;
    await p.goto('/docking/problems');
    assert.equal(await p.locator('a[href="/tasks"]').count(), 0, 'an enterprise account has no supervision menu');
    const form = p.locator('form#form-problem');
    await form.locator('input[name=title]').fill('架桥机钢结构焊接残余应力消除');
    await form.locator('textarea[name=description]').fill('太短');
    await form.locator('input[name=keywords]').fill('焊接残余应力；架桥机');
    await form.locator('input[name=budget_wan]').fill('150');
    await form.locator('select[name=cooperation_mode]').selectOption('合作开发');
    await submitAndWait(p, form.locator('button[type=submit]'));
    const errors = await errorFlashes(p);
    assert.ok(errors.some((e) => e.includes('难题描述')), `expected the 难题描述 field named, got ${JSON.stringify(errors)}`);
    assert.equal(await p.locator('form#form-problem input[name=title]').inputValue(), '架桥机钢结构焊接残余应力消除', 'what was typed comes back');
    await p.locator('form#form-problem textarea[name=description]').fill('箱形主梁长焊缝焊接后残余应力大，需要消除焊接残余应力并控制焊接变形，目标降低 50%。');
    await submitAndWait(p, p.locator('form#form-problem button[type=submit]'));
    await expectOk(p, 'submitting the problem');
    const m = new URL(p.url()).pathname.match(/^\/docking\/problems\/(\d+)$/);
    assert.ok(m, `after submitting, expected /docking/problems/N, got ${p.url()}`);
    const problemPath = m[0];
    assert.equal((await p.locator('#review-status').innerText()).trim(), '待形式审核');

    // --- the 科技局 reviews it from the review desk -------------------------------------------
    const t = tech.page;
    const before = await contractTotal(t);
    await t.goto('/docking/review');
    await Promise.all([t.waitForURL(`**${problemPath}`), t.locator(`#review-queue a[href="${problemPath}"]`).click()]);
    await submitAndWait(t, t.locator('form#form-review button[type=submit]'));
    await expectOk(t, '形式审核');
    assert.equal((await t.locator('#review-status').innerText()).trim(), '待部门审核');
    await submitAndWait(t, t.locator('form#form-review button[type=submit]'));
    await expectOk(t, '部门审核');
    assert.equal((await t.locator('#review-status').innerText()).trim(), '已发布');

    // --- matches, each with its reasons -------------------------------------------------------
    const topAchievement = t.locator('#matches-achievements tr.match').first();
    const reasons = await topAchievement.locator('.reasons').innerText();
    assert.match(reasons, /命中：.*焊接/, `top achievement's reasons: ${reasons}`);
    assert.match(reasons, /共同关键词：焊接残余应力/);
    // The evidence: the achievement's own sentences with the need's words marked.
    const marks = await topAchievement.locator('blockquote.match-evidence mark').allInnerTexts();
    assert.ok(marks.some((m) => m.includes('焊接')), `marked words: ${JSON.stringify(marks)}`);
    // This server runs without the embedding model: the page says matching ranks on words.
    assert.match(await t.locator('#semantic-off').innerText(), /语义匹配暂不可用（服务器未加载语义模型/);
    const topExpert = t.locator('#matches-experts tr.match').first();
    assert.match(await topExpert.innerText(), /华北水利水电大学教授（示例一）/);
    assert.match(await topExpert.locator('.reasons').innerText(), /学科与行业相符：机械工程 ↔ 3514 建筑工程用机械制造/);
    await t.screenshot({ path: path.join(ARTIFACTS, 'docking-matches.png'), fullPage: true });

    // --- the enterprise sees its problem published, with the same matches -----------------------
    await p.goto(problemPath);
    assert.equal((await p.locator('#review-status').innerText()).trim(), '已发布');
    assert.ok((await p.locator('#matches-experts tr.match').count()) > 0);

    // --- a docking from the top expert, moved to a signed contract -------------------------------
    await submitAndWait(t, topExpert.locator('button[type=submit]'));
    await expectOk(t, '推荐对接');
    assert.match(new URL(t.url()).pathname, /^\/docking\/dockings\/\d+$/);
    assert.equal((await t.locator('#stage').innerText()).trim(), '推荐');
    for (const stage of ['意向沟通', '对接洽谈', '签订合作意向书']) {
      await submitAndWait(t, t.locator('form#form-move button[type=submit]'));
      await expectOk(t, `moving to ${stage}`);
      assert.equal((await t.locator('#stage').innerText()).trim(), stage);
    }
    // Without a registered contract the docking cannot reach 签订技术合同.
    await submitAndWait(t, t.locator('form#form-move button[type=submit]'));
    const refused = await errorFlashes(t);
    assert.ok(refused.some((e) => e.includes('须先登记技术合同')), `expected the contract rule, got ${JSON.stringify(refused)}`);
    const c = t.locator('form#form-contract');
    await c.locator('input[name=contract_no]').fill(`BROWSER-${Date.now()}`);
    await c.locator('select[name=kind]').selectOption('技术开发');
    await c.locator('input[name=amount_wan]').fill('150');
    await c.locator('input[name=technical_income_wan]').fill('120');
    await submitAndWait(t, c.locator('button[type=submit]'));
    await expectOk(t, 'registering the contract');
    await submitAndWait(t, t.locator('form#form-move button[type=submit]'));
    await expectOk(t, 'moving to 签订技术合同');
    assert.equal((await t.locator('#stage').innerText()).trim(), '签订技术合同');

    // --- the dashboard total grows by the contract ---------------------------------------------
    const after = await contractTotal(t);
    assert.ok(Math.abs(after - (before + 150)) < 1e-6, `技术合同成交额 ${before} → ${after}, expected +150`);
    await t.screenshot({ path: path.join(ARTIFACTS, 'docking-stats.png'), fullPage: true });

    // The enterprise may not read the district's statistics.
    const res = await p.goto('/docking/stats');
    assert.equal(res?.status(), 403);
  } finally {
    await ent.context.close();
    await tech.context.close();
  }
});
