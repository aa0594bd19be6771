// A stock Yjs peer (yjs + y-websocket over `ws`) writes a draft's title and
// body, then sends the update that made yrs 0.28.1 free a live item (see
// patches/README.md), rebuilt for its own client id: two sections for its
// client, the second starting below the first, onto clocks it has already
// written. Driven by tests/tests/yrs_uaf_e2e.rs.
//
//   node crafted.mjs <http://127.0.0.1:PORT> <doc id> <token>
//
// Prints `result {"closed":code,"title":…,"body":…}` once the server has
// closed its socket (exit 0), or `error {…}` (exit 1).

import * as Y from 'yjs'
import * as encoding from 'lib0/encoding'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'
import { sleep, until } from './wait.mjs'

const [httpUrl, docId, token] = process.argv.slice(2)
if (!httpUrl || !docId || !token) {
  console.error('usage: node crafted.mjs <http-url> <doc-id> <token>')
  process.exit(2)
}

const doc = new Y.Doc()
const provider = new WebsocketProvider(httpUrl.replace(/^http/, 'ws') + '/sync', docId, doc, {
  params: { token },
  WebSocketPolyfill: WebSocket,
  disableBc: true,
  maxBackoffTime: 1000
})
const meta = doc.getMap('meta')
const body = doc.getText('body')
try {
  await until('sync', () => provider.synced)
  doc.transact(() => {
    meta.set('title', '关于城关街道停车难的建议')
    body.insert(0, '一、增加夜间停车位。\n二、错峰开放机关停车场。\n')
  })
  // Let the edit reach the server (it answers nothing a stock client sees).
  await sleep(500)
  const client = doc.clientID
  const clock = Y.getState(doc.store, client)
  const update = encoding.createEncoder()
  encoding.writeVarUint(update, 2) // two sections, both for `client`
  encoding.writeVarUint(update, 1)
  encoding.writeVarUint(update, client)
  encoding.writeVarUint(update, clock + 10)
  encoding.writeUint8(update, 0) // GC
  encoding.writeVarUint(update, 255)
  encoding.writeVarUint(update, 1)
  encoding.writeVarUint(update, client)
  encoding.writeVarUint(update, 0) // below the first section: our title, in a map
  encoding.writeUint8(update, 0) // GC
  encoding.writeVarUint(update, 1)
  encoding.writeVarUint(update, 0) // empty delete set
  const message = encoding.createEncoder()
  encoding.writeVarUint(message, 0) // sync
  encoding.writeVarUint(message, 2) // update
  encoding.writeVarUint8Array(message, encoding.toUint8Array(update))
  const ws = provider.ws
  let closed = null
  ws.addEventListener('close', (event) => { closed = event.code })
  provider.shouldConnect = false // no reconnect: the test checks the server alone
  ws.send(encoding.toUint8Array(message))
  await until('the server to close the socket', () => closed !== null)
  console.log('result ' + JSON.stringify({ closed, title: meta.get('title'), body: body.toString() }))
} catch (e) {
  console.log('error ' + JSON.stringify({ message: String(e && e.message) }))
  process.exitCode = 1
} finally {
  provider.destroy()
  setTimeout(() => process.exit(), 50)
}
