// Issue 3: member A loses the network (playwright's network emulation), edits
// the draft and a record, and reloads while still offline: the app opens from
// its service worker and A's edits are there. Meanwhile B edits the same
// paragraph online. A comes back: both converge, nobody's text is lost, and A's
// indicator went from "N changes not yet sent" (offline, pending > 0) to synced.

import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import * as h from './harness.mjs'

let env
before(async () => { env = await h.setup() })
after(async () => { await env?.close() })

/// Waits until a service worker is active for the page's origin.
async function serviceWorkerActive (page) {
  await h.waitFor('an active service worker (the app shell must open offline)', () =>
    page.evaluate(async () => {
      if (!('serviceWorker' in navigator)) return false
      const reg = await navigator.serviceWorker.getRegistration()
      return reg?.active?.state === 'activated'
    }))
}

test('offline edits survive a reload and merge with online edits of the same paragraph', { timeout: h.TEST_TIMEOUT_MS }, async () => {
  const { server, browser } = env
  const api = await server.api('chen.ming')
  const topic = await api.topic('医共体')
  const draft = topic.draft_doc
  const record = topic.record_docs[0]
  assert.ok(record, 'the demo topic has a record')
  const original = await api.draftBody(draft)
  const summary0 = (await api.doc(record)).content.summary

  const A = await h.newUser(browser, server)
  const B = await h.newUser(browser, server)
  try {
    await Promise.all([h.login(A.page, 'chen.ming'), h.login(B.page, 'liu.fang')])
    // A visits the record and the draft online first: what the app then has locally.
    await h.openDoc(A.page, record, { testid: 'record-summary' })
    await h.openDraft(A.page, draft)
    await h.openDraft(B.page, draft)
    await serviceWorkerActive(A.page)

    // A loses the network; the app notices within seconds.
    await A.context.setOffline(true)
    await h.waitForStatus(A.page, 'offline after the network is cut', (s) => s.state === 'offline', { timeout: 30_000 })

    // A edits the end of the first paragraph.
    const paraEnd = original.indexOf('87.6%。') + '87.6%。'.length
    const aDraft = '【陈明离线补充：村医队伍老化A】'
    await h.typeAt(A.page, paraEnd, aDraft)
    const unsent = await h.waitForStatus(A.page, 'offline with unsent changes', (s) => s.state === 'offline' && s.pending > 0)
    console.log(`A offline after editing the draft: ${JSON.stringify(unsent)}`)

    // A edits the record's summary, still offline (navigation served by the service worker).
    await A.page.goto(`/docs/${record}`)
    await A.page.getByTestId('record-summary').waitFor({ state: 'visible' })
    await h.waitForText(A.page, summary0, { testid: 'record-summary' })
    const aRecord = '【陈明离线记录：建议增加村医培训】'
    await h.typeAt(A.page, -1, aRecord, { testid: 'record-summary' })
    // ... and adds a statement to the record's entries.
    const entries0 = (await api.doc(record)).content.entries.length
    const aEntry = '陈明（离线）：建议把村医培训纳入年度计划。'
    await A.page.getByTestId('add-entry').click()
    const entryText = A.page.getByTestId('entry-text').nth(entries0)
    await entryText.waitFor({ state: 'visible' })
    await entryText.focus()
    await A.page.keyboard.type(aEntry, { delay: 20 })
    await h.waitForStatus(A.page, 'record offline with unsent changes', (s) => s.state === 'offline' && s.pending > 0)

    // Reload while offline: the app opens and A's edits are there.
    await A.page.reload()
    await A.page.getByTestId('record-summary').waitFor({ state: 'visible' })
    await h.waitForText(A.page, summary0 + aRecord, { testid: 'record-summary' })
    await h.waitForText(A.page, aEntry, { testid: 'record-entries' })
    await A.page.goto(`/docs/${draft}`)
    await h.body(A.page).waitFor({ state: 'visible' })
    await h.waitForText(A.page, aDraft)
    await h.waitForStatus(A.page, 'still offline with unsent changes after the reload',
      (s) => s.state === 'offline' && s.pending > 0)
    const shown = await h.statusShown(A.page)
    console.log(`A after the offline reload: ${JSON.stringify(shown)}`)
    assert.ok(shown.state === 'offline' && shown.pending > 0 && shown.text.includes(String(shown.pending)),
      `the indicator tells the member how many changes are unsent (${JSON.stringify(shown)})`)

    // Nothing of A's has reached the server.
    assert.ok(!(await api.draftBody(draft)).includes(aDraft), 'the server has not seen A\'s offline edit')

    // Meanwhile B edits the same paragraph online (at its start).
    const paraStart = original.indexOf('全县已组建')
    const bDraft = '【刘芳在线：截至2024年底B】'
    await h.typeAt(B.page, paraStart, bDraft)
    await h.waitFor('B\'s edit on the server', async () => (await api.draftBody(draft)).includes(bDraft))
    assert.ok(!(await h.valueOf(A.page)).includes(bDraft), 'A, offline, cannot have B\'s edit yet')

    // A comes back: everything converges, nothing is lost.
    await A.context.setOffline(false)
    const final = await h.waitForConvergence(api, draft, [A.page, B.page], { timeout: 90_000 })
    const expected = original.slice(0, paraStart) + bDraft + original.slice(paraStart, paraEnd) + aDraft + original.slice(paraEnd)
    assert.equal(final, expected, 'both members\' edits of the paragraph are kept whole and in place')
    assert.equal(h.countOf(final, aDraft), 1)
    assert.equal(h.countOf(final, bDraft), 1)
    const synced = await h.syncStatus(A.page)
    assert.deepEqual(synced, { state: 'synced', pending: 0 }, 'A\'s indicator went from unsent changes to synced')

    // The record's offline edit arrived too.
    let content
    await h.waitFor('A\'s offline record edits on the server', async () => {
      content = (await api.doc(record)).content
      return content.summary === summary0 + aRecord &&
        content.entries.length === entries0 + 1 &&
        content.entries[entries0].text === aEntry
    }).catch((e) => {
      throw new Error(`${e.message}; the server's record: summary ${JSON.stringify(content?.summary)}, ` +
        `entries ${JSON.stringify(content?.entries?.slice(entries0))}`)
    })
  } catch (e) {
    await h.postMortem('offline', [A, B])
    throw e
  } finally {
    await A.context.close()
    await B.context.close()
  }
})
