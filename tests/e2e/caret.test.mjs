// Issue 3: the caret does not jump when remote edits land before it. A's caret
// sits in the middle of the draft; B inserts and deletes text before it and
// after it; A keeps typing without touching the mouse, and A's text lands
// exactly where A meant it.

import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import * as h from './harness.mjs'

let env
before(async () => { env = await h.setup() })
after(async () => { await env?.close() })

test('the caret stays put when remote edits land before and after it', { timeout: h.TEST_TIMEOUT_MS }, async () => {
  const { server, browser } = env
  const api = await server.api('chen.ming')
  const doc = (await api.topic('加装电梯')).draft_doc
  const original = await api.draftBody(doc)

  const A = await h.newUser(browser, server)
  const B = await h.newUser(browser, server)
  try {
    await Promise.all([h.login(A.page, 'chen.ming'), h.login(B.page, 'liu.fang')])
    await Promise.all([h.openDraft(A.page, doc), h.openDraft(B.page, doc)])

    // A: caret in the middle of a paragraph, types a first piece.
    const p = original.indexOf('老年居民占比高')
    assert.ok(p > 0, 'the demo paragraph is there')
    const a1 = '甲1'
    await h.typeAt(A.page, p, a1)
    await h.waitForText(B.page, a1)
    let caret = await h.caretOf(A.page)
    assert.deepEqual(caret, { start: p + a1.length, end: p + a1.length, focused: true }, 'A caret after its own typing')
    let expected = original.slice(0, p) + a1 + original.slice(p)

    // B inserts before A's caret: A's caret moves right by exactly that length.
    const before1 = '【乙在前面插入一段话】'
    await h.typeAt(B.page, 0, before1, { delay: 10 })
    expected = before1 + expected
    await h.waitForText(A.page, (t) => t === expected)
    caret = await h.caretOf(A.page)
    assert.deepEqual(caret, {
      start: p + a1.length + before1.length,
      end: p + a1.length + before1.length,
      focused: true
    }, `A caret moved by B's insert length (${before1.length}) and A kept focus`)

    // B inserts after A's caret: A's caret does not move.
    const afterPos = expected.indexOf('## 二、建议')
    const after1 = '【乙在后面补充】'
    await h.typeAt(B.page, afterPos, after1, { delay: 10 })
    expected = expected.slice(0, afterPos) + after1 + expected.slice(afterPos)
    await h.waitForText(A.page, (t) => t === expected)
    caret = await h.caretOf(A.page)
    assert.equal(caret.start, p + a1.length + before1.length, 'an insert after the caret leaves it where it is')

    // B deletes 4 characters before A's caret (the start of its first insert).
    const delFrom = 1
    const delLen = 4
    await B.page.getByTestId('draft-body').evaluate((n, [s, e]) => n.setSelectionRange(s, e), [delFrom, delFrom + delLen])
    await B.page.keyboard.press('Backspace')
    expected = expected.slice(0, delFrom) + expected.slice(delFrom + delLen)
    await h.waitForText(A.page, (t) => t === expected)
    caret = await h.caretOf(A.page)
    const at = p + a1.length + before1.length - delLen
    assert.deepEqual(caret, { start: at, end: at, focused: true }, 'a delete before the caret moves it left by the deleted length')

    // A keeps typing where the caret is: the text lands right after A's first piece.
    const a2 = '甲2继续'
    await h.typeHere(A.page, a2)
    expected = expected.slice(0, at) + a2 + expected.slice(at)
    const final = await h.waitForConvergence(api, doc, [A.page, B.page])
    assert.equal(final, expected, "A's typing landed where A meant it")
    assert.ok(final.includes(a1 + a2 + '老年居民占比高'), 'A\'s two pieces are contiguous, before the word A was at')
  } catch (e) {
    await h.postMortem('caret', [A, B])
    throw e
  } finally {
    await A.context.close()
    await B.context.close()
  }
})
