// Issue 4: members sign off, staff finalize, the editor turns read-only, and
// the bulletin downloads (DOCX, Markdown, HTML).

import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import * as h from './harness.mjs'

let env
before(async () => { env = await h.setup() })
after(async () => { await env?.close() })

/// Clicks the `testid` export link and answers the downloaded bytes. A link
/// the browser shows instead of saving is fetched with the page's session.
async function download (page, testid, name) {
  const link = page.getByTestId(testid)
  await link.waitFor({ state: 'visible' })
  const file = h.artifactPath(name)
  try {
    const [dl] = await Promise.all([
      page.waitForEvent('download', { timeout: 30_000 }),
      link.click()
    ])
    const failure = await dl.failure()
    assert.equal(failure, null, `the ${testid} download did not fail`)
    await dl.saveAs(file)
    console.log(`artifact: ${file} (downloaded as ${dl.suggestedFilename()})`)
    return fs.readFileSync(file)
  } catch (e) {
    const href = await link.getAttribute('href')
    if (!href) throw new Error(`${testid}: no download and no href (${e.message})`)
    const res = await page.context().request.get(new URL(href, page.url()).toString())
    assert.equal(res.status(), 200, `GET ${href}`)
    const bytes = await res.body()
    fs.writeFileSync(file, bytes)
    console.log(`artifact: ${file} (fetched from ${href}; clicking gave no download: ${e.message.split('\n')[0]})`)
    return bytes
  }
}

test('members sign off, staff finalize, the editor turns read-only, the bulletin downloads', { timeout: h.TEST_TIMEOUT_MS }, async () => {
  const { server, browser } = env
  const staff = await server.api('zhou.min')
  const chen = await server.api('chen.ming')
  const liu = await server.api('liu.fang')
  const title = '关于完善社区养老服务设施的建议（浏览器测试）'
  const topic = await staff.post('/api/topics', { title, form: 'written' })
  await staff.put(`/api/topics/${topic.id}/participants`, { user_ids: [chen.user.id, liu.user.id] })
  const doc = topic.draft_doc

  const A = await h.newUser(browser, server)
  const B = await h.newUser(browser, server)
  const S = await h.newUser(browser, server)
  for (const u of [A, B, S]) u.page.on('dialog', (d) => d.accept())
  try {
    await Promise.all([h.login(A.page, 'chen.ming'), h.login(B.page, 'liu.fang'), h.login(S.page, 'zhou.min')])

    // A writes the draft.
    await h.openDraft(A.page, doc)
    const text = '## 建议\n\n在每个街道建设一处嵌入式养老服务中心，提供日间照料和助餐服务。'
    await h.typeAt(A.page, 0, text, { delay: 10 })
    await h.waitForConvergence(chen, doc, [A.page])

    // Both members sign off on what they see.
    await h.openDraft(B.page, doc)
    await h.waitForText(B.page, (t) => t === text)
    await A.page.getByTestId('signoff-button').click()
    await A.page.getByTestId('signoff-ok').waitFor({ state: 'visible' })
    await B.page.getByTestId('signoff-button').click()
    await B.page.getByTestId('signoff-ok').waitFor({ state: 'visible' })
    await h.waitFor('both sign-offs on the current version', async () => {
      const cur = (await chen.versions(doc)).find((v) => v.current)
      const who = new Set((cur?.signoffs ?? []).filter((s) => !s.stale).map((s) => s.user_id))
      return who.has(chen.user.id) && who.has(liu.user.id)
    })

    // Staff finalize in the browser.
    await h.openDraft(S.page, doc)
    await S.page.getByTestId('finalize-button').click()
    await h.waitFor('the document to be finalized', async () => (await chen.doc(doc)).finalized === true)

    // Every open editor turns read-only, and says so.
    for (const [who, u] of [['A', A], ['B', B], ['staff', S]]) {
      await u.page.getByTestId('readonly-notice').waitFor({ state: 'visible' })
      await h.waitFor(`${who}'s editor to refuse input`, () => h.body(u.page).evaluate((n) => n.disabled || n.readOnly))
    }
    // Typing into it changes nothing, locally or on the server.
    await h.body(A.page).evaluate((n) => n.focus())
    await A.page.keyboard.type('定稿后不应出现')
    assert.equal(await h.valueOf(A.page), text, 'the read-only editor kept its text')
    assert.equal(await chen.draftBody(doc), text, 'the server kept the finalized text')
    // A fresh load of the editor is read-only too.
    await A.page.reload()
    await A.page.getByTestId('readonly-notice').waitFor({ state: 'visible' })

    // The bulletin downloads: DOCX (a zip: "PK"), Markdown and HTML with the text.
    const docx = await download(S.page, 'export-docx', 'bulletin.docx')
    assert.ok(docx.length > 0, 'the DOCX is not empty')
    assert.equal(docx.subarray(0, 2).toString('latin1'), 'PK', 'the DOCX is a zip file')
    const md = (await download(S.page, 'export-md', 'bulletin.md')).toString('utf8')
    assert.ok(md.includes('嵌入式养老服务中心'), 'the Markdown bulletin has the text')
    assert.ok(md.includes(title), 'the Markdown bulletin has the title')
    const html = (await download(A.page, 'export-html', 'bulletin.html')).toString('utf8')
    assert.ok(html.includes('嵌入式养老服务中心'), 'the HTML bulletin has the text')
  } catch (e) {
    await h.postMortem('finalize', [A, B, S])
    throw e
  } finally {
    for (const u of [A, B, S]) await u.context.close()
  }
})

test('finalize waits for every sign-off, or a recorded reason for the absent', { timeout: h.TEST_TIMEOUT_MS }, async () => {
  const { server, browser } = env
  const staff = await server.api('zhou.min')
  const chen = await server.api('chen.ming')
  const liu = await server.api('liu.fang')
  const topic = await staff.post('/api/topics', { title: '关于规范村级议事协商的建议（缺席理由）', form: 'meeting' })
  await staff.put(`/api/topics/${topic.id}/participants`, { user_ids: [chen.user.id, liu.user.id] })
  const doc = topic.draft_doc

  const A = await h.newUser(browser, server)
  const S = await h.newUser(browser, server)
  for (const u of [A, S]) u.page.on('dialog', (d) => d.accept())
  try {
    await Promise.all([h.login(A.page, 'chen.ming'), h.login(S.page, 'zhou.min')])
    await h.openDraft(A.page, doc)
    const text = '建议每季度至少召开一次村级议事协商会。'
    await h.typeAt(A.page, 0, text, { delay: 10 })
    await h.waitForConvergence(chen, doc, [A.page])
    await A.page.getByTestId('signoff-button').click()
    await A.page.getByTestId('signoff-ok').waitFor({ state: 'visible' })

    // 刘芳 has not signed: staff are told who is missing, nothing is frozen.
    await h.openDraft(S.page, doc)
    await S.page.getByTestId('finalize-button').click()
    await h.waitForText(S.page, '刘芳', { testid: 'finalize-missing' })
    assert.equal((await chen.doc(doc)).finalized, false, 'not finalized while a sign-off is missing')
    assert.ok(!(await A.page.getByTestId('readonly-notice').isVisible()), 'A can still edit')

    // With a reason for the absent member, staff finalize.
    await S.page.getByTestId('absent-reason').fill('刘芳同志因公出差，未能参加审议')
    await S.page.getByTestId('finalize-button').click()
    await S.page.getByTestId('finalize-ok').waitFor({ state: 'visible' })
    await h.waitFor('the document to be finalized', async () => (await chen.doc(doc)).finalized === true)
    await A.page.getByTestId('readonly-notice').waitFor({ state: 'visible' })
    await h.waitFor('A\'s editor to refuse input', () => h.body(A.page).evaluate((n) => n.disabled || n.readOnly))
  } catch (e) {
    await h.postMortem('finalize-absent', [A, S])
    throw e
  } finally {
    for (const u of [A, S]) await u.context.close()
  }
})
