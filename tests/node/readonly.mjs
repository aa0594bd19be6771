// A stock Yjs peer (yjs + y-websocket over `ws`) tries to edit a finalized
// document (driven by tests/tests/canonical.rs). The server must refuse with the
// y-protocols auth message (permission denied + reason), which y-websocket
// reports through console.warn; the edit must not reach anyone.
//
//   node readonly.mjs <http://127.0.0.1:PORT> <doc id> <token>
//
// Prints `result {"denied":bool,"reason":…,"before":…,"after":…}` (exit 0), or
// `error {…}` (exit 1).

import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'
import { sleep, until } from './wait.mjs'

const [httpUrl, docId, token] = process.argv.slice(2)
if (!httpUrl || !docId || !token) {
  console.error('usage: node readonly.mjs <http-url> <doc-id> <token>')
  process.exit(2)
}

let denied = null
const warn = console.warn
console.warn = (...args) => {
  const text = args.map(String).join(' ')
  if (text.includes('Permission denied')) denied = text
  else warn(...args)
}

const doc = new Y.Doc()
const provider = new WebsocketProvider(httpUrl.replace(/^http/, 'ws') + '/sync', docId, doc, {
  params: { token },
  WebSocketPolyfill: WebSocket,
  disableBc: true,
  maxBackoffTime: 1000
})
const text = doc.getText('body')
try {
  await until('sync', () => provider.synced)
  const before = text.toString()
  text.insert(text.length, '\n\n[stock-yjs-edit 定稿后]')
  await until('permission denied', () => denied !== null)
  console.log('result ' + JSON.stringify({ denied: true, reason: denied, before, after: text.toString() }))
} catch (e) {
  console.log('error ' + JSON.stringify({ message: String(e && e.message), denied }))
  process.exitCode = 1
} finally {
  provider.destroy()
  setTimeout(() => process.exit(), 50)
}
