// Issue 3: the server is stopped while a member types and started again later
// (same data, same port): the member keeps typing, the indicator shows the
// pending count, and after the restart everything arrives (checked over REST).

import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import * as h from './harness.mjs'

let env
before(async () => { env = await h.setup() })
after(async () => { await env?.close() })

test('typing through a server restart loses nothing', { timeout: h.TEST_TIMEOUT_MS }, async () => {
  const { server, browser } = env
  const api = await server.api('chen.ming')
  const doc = (await api.topic('医共体')).draft_doc
  const original = await api.draftBody(doc)

  const A = await h.newUser(browser, server)
  try {
    await h.login(A.page, 'chen.ming')
    await h.openDraft(A.page, doc)

    const part1 = '\n\n4. 在线时输入的第一段。'
    await h.typeAt(A.page, -1, part1)
    await h.waitForConvergence(api, doc, [A.page])

    // The server goes away while A is typing.
    const part2 = '服务器停止时仍在输入的第二段，'
    await Promise.all([
      h.typeHere(A.page, part2, { delay: 80 }),
      (async () => {
        await h.waitForText(A.page, part2.slice(0, 4))
        await server.stop()
      })()
    ])
    await assert.rejects(fetch(server.url + '/healthz'), 'the server is down')
    const pending2 = await h.waitForStatus(A.page, 'unsent changes while the server is down',
      (s) => s.state !== 'synced' && s.pending > 0)
    console.log(`indicator with the server down: ${JSON.stringify(pending2)}`)

    // A keeps typing; the editor still takes it and the count stays visible.
    const part3 = '以及重启前的第三段。'
    await h.typeHere(A.page, part3)
    await h.waitForText(A.page, original + part1 + part2 + part3)
    await h.waitForStatus(A.page, 'unsent changes after more typing',
      (s) => s.state !== 'synced' && s.pending > 0)
    const shown = await h.statusShown(A.page)
    console.log(`indicator after more typing: ${JSON.stringify(shown)}`)
    assert.ok(shown.pending > 0 && shown.text.includes(String(shown.pending)),
      `the indicator shows the pending count (${JSON.stringify(shown)})`)

    // The server comes back on the same port and data; everything arrives.
    await server.restart()
    const final = await h.waitForConvergence(api, doc, [A.page], { timeout: 120_000 })
    assert.equal(final, original + part1 + part2 + part3, 'every keystroke reached the server')
    assert.deepEqual(await h.syncStatus(A.page), { state: 'synced', pending: 0 })
  } catch (e) {
    await h.postMortem('restart', [A])
    throw e
  } finally {
    await A.context.close()
  }
})
