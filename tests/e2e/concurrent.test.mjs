// Issue 3: two members in two browser contexts type into the same draft at the
// same time; both end with identical text, equal to `GET /api/docs/{id}`.

import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import * as h from './harness.mjs'

let env
before(async () => { env = await h.setup() })
after(async () => { await env?.close() })

test('two members typing into one draft at once converge to the server text', { timeout: h.TEST_TIMEOUT_MS }, async () => {
  const { server, browser } = env
  const api = await server.api('chen.ming')
  const doc = (await api.topic('医共体')).draft_doc
  const original = await api.draftBody(doc)

  const A = await h.newUser(browser, server)
  const B = await h.newUser(browser, server)
  try {
    await Promise.all([h.login(A.page, 'chen.ming'), h.login(B.page, 'liu.fang')])
    await Promise.all([h.openDraft(A.page, doc), h.openDraft(B.page, doc)])
    assert.equal(await h.valueOf(A.page), original, "A's editor shows the server's text")
    assert.equal(await h.valueOf(B.page), original, "B's editor shows the server's text")

    // Round 1: A at the very end, B at the very start, typing at the same time.
    const a1 = '【陈明：县乡检查结果互认A-7531】'
    const b1 = '【刘芳：影像中心年内建成B-8642】'
    await Promise.all([
      h.typeAt(A.page, -1, a1, { delay: 40 }),
      h.typeAt(B.page, 0, b1, { delay: 40 })
    ])
    const round1 = await h.waitForConvergence(api, doc, [A.page, B.page])
    assert.equal(round1, b1 + original + a1, 'both texts are kept whole, each where its author typed it')

    // Round 2: both in the same paragraph, A in its middle and B at its start.
    const para = round1.indexOf('全县已组建')
    const mid = round1.indexOf('县域就诊率')
    assert.ok(para > 0 && mid > para, 'the demo paragraph is there')
    const a2 = '（甲：含民营医院A2）'
    const b2 = '（乙：截至去年底B2）'
    await Promise.all([
      h.typeAt(A.page, mid, a2, { delay: 40 }),
      h.typeAt(B.page, para, b2, { delay: 40 })
    ])
    const round2 = await h.waitForConvergence(api, doc, [A.page, B.page])
    const expected = round1.slice(0, para) + b2 + round1.slice(para, mid) + a2 + round1.slice(mid)
    assert.equal(round2, expected, 'concurrent typing in one paragraph keeps both runs whole and in place')
    for (const s of [a1, b1, a2, b2]) assert.equal(h.countOf(round2, s), 1, `${s} appears exactly once`)
  } catch (e) {
    await h.postMortem('concurrent', [A, B])
    throw e
  } finally {
    await A.context.close()
    await B.context.close()
  }
})
