// Issue 10, the office computer: two members use one browser profile (same
// origin, same IndexedDB). A edits a draft and signs off while offline, then
// signs out; B signs in once the link is back: nothing of A's reaches the
// server under B's name, and B's editor shows none of A's unsent text. A signs
// in again: A's edit and sign-off reach the server, attributed to A.

import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import * as h from './harness.mjs'

let env
before(async () => { env = await h.setup() })
after(async () => { await env?.close() })

test('one computer, two members: unsent work goes out only as its author', { timeout: h.TEST_TIMEOUT_MS }, async () => {
  const { server, browser } = env
  const staff = await server.api('zhou.min')
  const chen = await server.api('chen.ming')
  const liu = await server.api('liu.fang')
  const topic = await staff.post('/api/topics', { title: '关于村级卫生室建设的协商（共用电脑测试）', form: 'meeting' })
  await staff.put(`/api/topics/${topic.id}/participants`, { user_ids: [chen.user.id, liu.user.id] })
  const doc = topic.draft_doc

  const office = await h.newUser(browser, server) // one profile, both members
  const { page, context } = office
  try {
    await h.login(page, 'chen.ming')
    await h.openDraft(page, doc)
    await context.setOffline(true)
    await h.waitForStatus(page, 'offline after the network is cut', (s) => s.state === 'offline', { timeout: 30_000 })
    const aText = '【陈明离线写的建议】'
    await h.typeAt(page, 0, aText)
    await h.waitForStatus(page, 'offline with unsent changes', (s) => s.state === 'offline' && s.pending > 0)
    await page.getByTestId('signoff-button').click()
    await page.getByTestId('signoff-queued').waitFor({ state: 'visible' })
    await page.getByTestId('sign-out').click()
    await page.getByTestId('login-username').waitFor({ state: 'visible' })

    // The link returns and B signs in on the same browser.
    await context.setOffline(false)
    await h.login(page, 'liu.fang')
    await h.openDraft(page, doc)
    const shownToB = await h.valueOf(page)
    assert.ok(!shownToB.includes(aText), `B's editor shows A's unsent text: ${shownToB}`)
    // Give anything wrongly queued time to go out, then look at the server.
    await page.waitForTimeout(3000)
    assert.ok(!(await liu.draftBody(doc)).includes(aText), 'A\'s edit reached the server under B')
    const signers = async () => (await liu.versions(doc)).flatMap((v) => v.signoffs ?? []).map((s) => s.user_id)
    assert.deepEqual(await signers(), [], 'a sign-off was recorded while B was signed in')
    console.log('B signed in on the same browser: no edit, no sign-off of A\'s sent as B; B\'s editor shows none of it')

    // A comes back: A's work goes out as A.
    await page.getByTestId('sign-out').click()
    await page.getByTestId('login-username').waitFor({ state: 'visible' })
    await h.login(page, 'chen.ming')
    await h.waitFor('A\'s edit on the server', async () => (await chen.draftBody(doc)).includes(aText))
    await h.waitFor('A\'s sign-off on the server', async () => (await signers()).includes(chen.user.id))
    assert.ok(!(await signers()).includes(liu.user.id), 'B is recorded as a signer')
    const paragraphs = await chen.get(`/api/docs/${doc}/authorship`)
    const mine = paragraphs.find((p) => p.text.includes(aText))
    assert.ok(mine, `no paragraph with A's text: ${JSON.stringify(paragraphs)}`)
    const authors = mine.authors.map((a) => a.user_id)
    assert.deepEqual(authors, [chen.user.id], `A's paragraph is attributed to ${JSON.stringify(mine.authors)}`)
    console.log(`A signed in again: edit and sign-off on the server, attributed to A (${JSON.stringify(mine.authors)})`)
  } catch (e) {
    await h.postMortem('shared-computer', { office })
    throw e
  } finally {
    await context.close()
  }
})

test('"remove my data" with unsent changes asks first, then empties that member\'s stores', { timeout: h.TEST_TIMEOUT_MS }, async () => {
  const { server, browser } = env
  const staff = await server.api('zhou.min')
  const chen = await server.api('chen.ming')
  const liu = await server.api('liu.fang')
  const topic = await staff.post('/api/topics', { title: '清除本机数据测试', form: 'meeting' })
  await staff.put(`/api/topics/${topic.id}/participants`, { user_ids: [chen.user.id, liu.user.id] })
  const doc = topic.draft_doc
  const office = await h.newUser(browser, server)
  const { page, context } = office
  const databases = () => page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name).sort())
  try {
    // B has data here too, which must survive A's removal.
    await h.login(page, 'liu.fang')
    await h.openDraft(page, doc)
    await page.getByTestId('sign-out').click()
    await h.login(page, 'chen.ming')
    await h.openDraft(page, doc)
    await context.setOffline(true)
    await h.waitForStatus(page, 'offline after the network is cut', (s) => s.state === 'offline', { timeout: 30_000 })
    await h.typeAt(page, 0, '【不会发送的修改】')
    await h.waitForStatus(page, 'offline with unsent changes', (s) => s.state === 'offline' && s.pending > 0)
    const mine = `xieshang-user-${chen.user.id}`
    const theirs = `xieshang-user-${liu.user.id}`
    assert.deepEqual((await databases()).filter((n) => n === mine || n === theirs), [mine, theirs].sort())

    await page.getByTestId('forget-device').click()
    await page.getByTestId('forget-dialog').waitFor({ state: 'visible' })
    const warning = await page.getByTestId('forget-unsent').textContent()
    assert.ok(/1/.test(warning), `the warning does not count the unsent document: ${warning}`)
    await page.getByTestId('confirm').click()
    await page.getByTestId('login-username').waitFor({ state: 'visible' })
    await h.waitFor('A\'s database to be gone', async () => !(await databases()).includes(mine))
    assert.ok((await databases()).includes(theirs), 'B\'s database went too')
    console.log(`after "remove my data": ${JSON.stringify(await databases())} (A's ${mine} gone, B's kept)`)
  } catch (e) {
    await h.postMortem('forget-device', { office })
    throw e
  } finally {
    await context.close()
  }
})
