// Issue 10, creating offline: a member at an inspection site starts a new
// record with no network, fills it, reloads, edits more, and comes back
// online: exactly one record reaches the server, with all of it, and another
// member sees it. And a creation whose answer is lost is sent again and still
// makes one record (ids minted by the creator, idempotent create).

import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import * as h from './harness.mjs'

let env
before(async () => { env = await h.setup() })
after(async () => { await env?.close() })

async function topicFor (server, title) {
  const staff = await server.api('zhou.min')
  const chen = await server.api('chen.ming')
  const liu = await server.api('liu.fang')
  const topic = await staff.post('/api/topics', { title, form: 'inspection' })
  await staff.put(`/api/topics/${topic.id}/participants`, { user_ids: [chen.user.id, liu.user.id] })
  return { topic, chen, liu }
}

const docIdOf = (page) => decodeURIComponent(new URL(page.url()).pathname.split('/').pop())

test('a record created offline, filled, reloaded and edited reaches the server once', { timeout: h.TEST_TIMEOUT_MS }, async () => {
  const { server, browser } = env
  const { topic, chen, liu } = await topicFor(server, '关于农村饮水安全的视察（离线新建测试）')
  const A = await h.newUser(browser, server)
  const B = await h.newUser(browser, server)
  try {
    await h.login(A.page, 'chen.ming')
    // Online once: the app and the topic are then on this computer.
    await A.page.goto(`/topics/${topic.id}`)
    await A.page.getByTestId('create-record').waitFor({ state: 'visible' })
    await A.context.setOffline(true)
    await h.waitFor('the browser to notice it is offline', async () => !(await A.page.evaluate(() => navigator.onLine)))

    await A.page.getByTestId('create-record').click()
    await A.page.getByTestId('record-summary').waitFor({ state: 'visible' })
    const doc = docIdOf(A.page)
    assert.match(doc, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, `not a UUIDv7: ${doc}`)
    await A.page.getByTestId('not-on-server').first().waitFor({ state: 'visible' })
    const place = '青山镇水厂'
    await A.page.getByTestId('record-field-place').fill(place)
    const summary1 = '【视察小结：水源地保护到位】'
    await h.typeAt(A.page, 0, summary1, { testid: 'record-summary' })
    const entry = '陈明：建议增加水质抽检频次。'
    await A.page.getByTestId('add-entry').click()
    const entryText = A.page.getByTestId('entry-text').first()
    await entryText.waitFor({ state: 'visible' })
    await entryText.focus()
    await A.page.keyboard.type(entry, { delay: 20 })
    await h.waitForStatus(A.page, 'offline with unsent changes', (s) => s.state === 'offline' && s.pending > 0)

    // Reload, still offline: the record is there, still marked, and editable.
    await A.page.reload()
    await A.page.getByTestId('record-summary').waitFor({ state: 'visible' })
    await h.waitForText(A.page, summary1, { testid: 'record-summary' })
    await h.waitForText(A.page, entry, { testid: 'record-entries' })
    await A.page.getByTestId('not-on-server').first().waitFor({ state: 'visible' })
    const summary2 = '（补充：管网老化需改造）'
    await h.typeAt(A.page, -1, summary2, { testid: 'record-summary' })
    await h.waitForStatus(A.page, 'still offline with unsent changes', (s) => s.state === 'offline' && s.pending > 0)
    // The topic's list shows it, marked "not yet on the server".
    await A.page.goto(`/topics/${topic.id}`)
    const item = A.page.locator(`[data-testid="topic-records"] li:has(a[data-doc-id="${doc}"])`)
    await item.waitFor({ state: 'visible' })
    assert.equal(await item.getAttribute('data-unregistered'), 'true')
    const before = await chen.get(`/api/topics/${topic.id}`)
    assert.deepEqual(before.record_docs, [], 'the server knew the record while the member was offline')

    // Back online: one record, with everything, and the mark goes.
    await A.context.setOffline(false)
    await h.waitFor('the record on the server with all of it', async () => {
      const t = await chen.get(`/api/topics/${topic.id}`)
      if (!t.record_docs.includes(doc)) return false
      const c = (await chen.doc(doc)).content
      return c.fields?.place === place && c.summary === summary1 + summary2 && c.entries.some((e) => e.text === entry)
    })
    const after = await chen.get(`/api/topics/${topic.id}`)
    assert.deepEqual(after.record_docs, [doc], `records on the server: ${JSON.stringify(after.record_docs)}`)
    await h.waitFor('the "not yet on the server" mark to go', async () =>
      (await item.getAttribute('data-unregistered')) === 'false')
    const meta = await liu.doc(doc)
    assert.equal(meta.kind, 'record')
    console.log(`record ${doc} created offline: on the server once, place, summary and entry all there`)

    // A second member sees it, in their own browser.
    await h.login(B.page, 'liu.fang')
    await h.openDoc(B.page, doc, { testid: 'record-summary' })
    await h.waitForText(B.page, summary1 + summary2, { testid: 'record-summary' })
    await h.waitForText(B.page, entry, { testid: 'record-entries' })
    assert.equal(await B.page.getByTestId('record-field-place').inputValue(), place)
    console.log('a second member opens it with all of it')
  } catch (e) {
    await h.postMortem('create-offline', { A, B })
    throw e
  } finally {
    await A.context.close()
    await B.context.close()
  }
})

test('a creation whose answer is lost is sent again and makes one record', { timeout: h.TEST_TIMEOUT_MS }, async () => {
  const { server, browser } = env
  const { topic, chen } = await topicFor(server, '关于集镇污水管网的视察（重复提交测试）')
  const A = await h.newUser(browser, server)
  try {
    await h.login(A.page, 'chen.ming')
    const posts = []
    // The first request reaches the server, but its answer never reaches the page.
    await A.page.route('**/api/topics/*/records', async (route) => {
      posts.push(route.request().postData())
      if (posts.length === 1) {
        await route.fetch()
        await route.abort('connectionreset')
      } else {
        await route.continue()
      }
    })
    await A.page.goto(`/topics/${topic.id}`)
    await A.page.getByTestId('create-record').click()
    await A.page.getByTestId('record-summary').waitFor({ state: 'visible' })
    const doc = docIdOf(A.page)
    const text = '【答复丢失后的记录】'
    await h.typeAt(A.page, 0, text, { testid: 'record-summary' })
    await h.waitFor('the record and its text on the server', async () => {
      const t = await chen.get(`/api/topics/${topic.id}`)
      return t.record_docs.includes(doc) && (await chen.doc(doc)).content.summary === text
    })
    await h.waitForStatus(A.page, 'synced', h.isSynced)
    assert.ok(posts.length >= 2, `the creation was sent ${posts.length} time(s)`)
    assert.ok(posts.every((p) => JSON.parse(p).id === doc), `the requests carried other ids: ${posts}`)
    const t = await chen.get(`/api/topics/${topic.id}`)
    assert.deepEqual(t.record_docs, [doc], `records on the server: ${JSON.stringify(t.record_docs)}`)
    console.log(`the creation was sent ${posts.length} times (the first answer dropped): one record, ${doc}`)
  } catch (e) {
    await h.postMortem('create-retried', { A })
    throw e
  } finally {
    await A.context.close()
  }
})
