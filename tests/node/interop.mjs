// Two stock Yjs peers (yjs + y-websocket's WebsocketProvider over `ws`) edit the
// draft body of one document on a running Xieshang server while a native Rust
// peer edits too (driven by tests/tests/yjs_interop.rs).
//
//   node interop.mjs <http://127.0.0.1:PORT> <doc id> <token>
//
// env: XS_EXPECT_RUST = number of `[rsN]` markers the Rust peer writes (waited for),
//      XS_JS_EDITS = markers per JS peer (default 12), XS_SEED = seed of the positions.
// Prints `ready` once both peers are synced, then `result {"text":…}` once both
// have every marker and agree, or `error {…}` (exit code 1).

import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'
import { sleep, until } from './wait.mjs'

const [httpUrl, docId, token] = process.argv.slice(2)
if (!httpUrl || !docId || !token) {
  console.error('usage: node interop.mjs <http-url> <doc-id> <token>')
  process.exit(2)
}
const expectRust = Number(process.env.XS_EXPECT_RUST || '0')
const perPeer = Number(process.env.XS_JS_EDITS || '12')
let seed = Number(process.env.XS_SEED || '7')
const rand = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed / 2147483648
}
// Positions where a marker may go without splitting another (UTF-16 offsets, as Yjs counts).
const boundaries = (s) => {
  const out = [0]
  for (let i = 0; i < s.length; i++) if (s[i] === ']') out.push(i + 1)
  return out
}

let closing = false
const serverUrl = httpUrl.replace(/^http/, 'ws') + '/sync'
const peer = (name) => {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(serverUrl, docId, doc, {
    params: { token },
    WebSocketPolyfill: WebSocket,
    disableBc: true, // both peers live in this process: make them talk through the server only
    maxBackoffTime: 1000
  })
  provider.on('connection-close', (event) => {
    if (closing) return
    console.error(`peer ${name}: connection closed ${event ? event.code + ' ' + event.reason : ''}`)
  })
  return { name, doc, provider, text: doc.getText('body') }
}

const peers = [peer('A'), peer('B')]
const marker = (p, i) => `[js${p.name}${i}é😀]`
try {
  await until('both peers synced', () => peers.every((p) => p.provider.synced))
  console.log('ready')
  for (let i = 0; i < perPeer; i++) {
    for (const p of peers) {
      const spots = boundaries(p.text.toString())
      p.text.insert(spots[Math.floor(rand() * spots.length)], marker(p, i))
    }
    await sleep(5 + Math.floor(rand() * 15))
  }
  const expected = peers.flatMap((p) => Array.from({ length: perPeer }, (_, i) => marker(p, i)))
  const complete = (p) => {
    const s = p.text.toString()
    return expected.every((m) => s.includes(m)) && (s.match(/\[rs\d+\]/g) || []).length === expectRust
  }
  await until('both peers to have every marker and agree', () =>
    peers.every(complete) && peers[0].text.toString() === peers[1].text.toString())
  console.log('result ' + JSON.stringify({ text: peers[0].text.toString() }))
} catch (e) {
  console.log('error ' + JSON.stringify({ message: String(e && e.message), texts: peers.map((p) => p.text.toString()) }))
  process.exitCode = 1
} finally {
  closing = true
  for (const p of peers) p.provider.destroy()
  setTimeout(() => process.exit(), 50)
}
