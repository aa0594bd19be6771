// Issue 3: screenshots of the topic list (in Chinese), the draft editor with
// two members present, and the record editor, saved as artifacts under
// <target>/e2e-artifacts/ (CARGO_TARGET_DIR is honoured); their paths are printed.

import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import * as h from './harness.mjs'

let env
before(async () => { env = await h.setup() })
after(async () => { await env?.close() })

test('screenshots: topic list, draft editor with two members, record editor', { timeout: h.TEST_TIMEOUT_MS }, async () => {
  const { server, browser } = env
  const api = await server.api('chen.ming')
  const topic = await api.topic('医共体')

  const A = await h.newUser(browser, server)
  const B = await h.newUser(browser, server)
  try {
    await Promise.all([h.login(A.page, 'chen.ming'), h.login(B.page, 'liu.fang')])

    // The topic list, in Chinese by default.
    const list = A.page.getByTestId('topic-list')
    await h.waitForText(A.page, topic.title, { testid: 'topic-list' })
    assert.equal(await A.page.locator('html').getAttribute('lang'), 'zh-CN')
    assert.ok(await list.isVisible())
    await h.screenshot(A.page, 'topic-list.png')

    // The draft editor with both members in it.
    await Promise.all([h.openDraft(A.page, topic.draft_doc), h.openDraft(B.page, topic.draft_doc)])
    await h.waitForText(A.page, '刘芳', { testid: 'presence-list' })
    await h.waitForText(B.page, '陈明', { testid: 'presence-list' })
    await h.screenshot(A.page, 'draft-editor-two-members.png')

    // The record editor.
    await h.openDoc(A.page, topic.record_docs[0], { testid: 'record-summary' })
    await h.waitForText(A.page, '李卫东', { testid: 'record-entries' })
    await h.screenshot(A.page, 'record-editor.png')
  } catch (e) {
    await h.postMortem('screenshots', [A, B])
    throw e
  } finally {
    await A.context.close()
    await B.context.close()
  }
})
