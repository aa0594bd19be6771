// Stock Yjs peers (yjs + y-websocket over `ws`) that try what a member could do to
// another through the sync socket, and a meeting of stock clients with presence.
// Driven by tests/tests/trust.rs.
//
//   node trust.mjs forge <http-url> <doc> <token> <client id>
//     writes under <client id> (another member's); prints `result {"closed":code,
//     "reason":…,"fresh":bool}`: how the server closed it, and whether the same
//     member then syncs an edit with a fresh client id.
//   node trust.mjs presence <http-url> <doc> <tokenA,tokenB,tokenC> <nameA>
//     B sends awareness entries for A's client id (a removal, then a claim);
//     prints `result {"seen":…,"closes":n}`: A's entry as C sees it afterwards.
//   node trust.mjs meeting <http-url> <doc> <token,…> <name,…>
//     every peer sets presence (claiming a false name) and makes one edit;
//     prints `result {"complete":bool,"closes":n,"names":[…]}`.
// Exit code 1 with `error {…}` on a timeout.

import * as Y from 'yjs'
import * as encoding from 'lib0/encoding'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'
import { sleep, until } from './wait.mjs'

const [mode, httpUrl, docId, tokens, extra] = process.argv.slice(2)
if (!mode || !httpUrl || !docId || !tokens) {
  console.error('usage: node trust.mjs forge|presence|meeting <http-url> <doc-id> <token[,…]> <arg>')
  process.exit(2)
}
const serverUrl = httpUrl.replace(/^http/, 'ws') + '/sync'
let closes = 0
let closing = false

const peer = (token) => {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(serverUrl, docId, doc, {
    params: { token },
    WebSocketPolyfill: WebSocket,
    disableBc: true,
    maxBackoffTime: 1000
  })
  const p = { doc, provider, text: doc.getText('body'), closed: null }
  provider.on('connection-close', (event) => {
    if (closing) return
    closes++
    if (!p.closed && event) p.closed = { code: event.code, reason: String(event.reason || '') }
  })
  return p
}

const awarenessMessage = (client, clock, state) => {
  const update = encoding.createEncoder()
  encoding.writeVarUint(update, 1)
  encoding.writeVarUint(update, client)
  encoding.writeVarUint(update, clock)
  encoding.writeVarString(update, JSON.stringify(state))
  const message = encoding.createEncoder()
  encoding.writeVarUint(message, 1) // awareness
  encoding.writeVarUint8Array(message, encoding.toUint8Array(update))
  return encoding.toUint8Array(message)
}

const peers = []
const done = (result) => console.log('result ' + JSON.stringify(result))
try {
  if (mode === 'forge') {
    const forger = peer(tokens)
    peers.push(forger)
    await until('sync', () => forger.provider.synced)
    // Taken only now: Yjs itself moves off a client id it sees others write with.
    const own = forger.doc.clientID
    forger.doc.clientID = Number(extra)
    forger.text.insert(0, '[冒名]')
    await until('the server to close the forged socket', () => forger.closed !== null)
    const closed = forger.closed
    forger.doc.clientID = own // the provider's presence bookkeeping knows only this one
    forger.provider.destroy()
    // The same member, a fresh client id (what a reload gives): accepted.
    const fresh = peer(tokens)
    peers.push(fresh)
    await until('fresh sync', () => fresh.provider.synced)
    fresh.text.insert(0, '[本人]')
    await sleep(300)
    done({ closed: closed.code, reason: closed.reason, fresh: fresh.closed === null })
  } else if (mode === 'presence') {
    const [a, b, c] = tokens.split(',').map((t) => peer(t))
    peers.push(a, b, c)
    await until('sync', () => peers.every((p) => p.provider.synced))
    a.provider.awareness.setLocalState({ user: { name: '假名' }, cursor: null })
    const seenByC = () => c.provider.awareness.getStates().get(a.doc.clientID)
    await until('C to see A', () => seenByC()?.user?.name === extra)
    const clock = a.provider.awareness.meta.get(a.doc.clientID).clock
    b.provider.ws.send(awarenessMessage(a.doc.clientID, clock + 10, null))
    b.provider.ws.send(awarenessMessage(a.doc.clientID, clock + 20, { user: { name: '冒充者' } }))
    await sleep(500)
    done({ seen: seenByC() ?? null, closes })
  } else if (mode === 'meeting') {
    const names = extra.split(',')
    tokens.split(',').forEach((t) => peers.push(peer(t)))
    await until('every peer synced', () => peers.every((p) => p.provider.synced), 60000)
    peers.forEach((p, i) => p.provider.awareness.setLocalState({ user: { name: `冒名${i}` }, cursor: null }))
    const n = peers.length
    await until('every peer to see everyone present', () =>
      peers.every((p) => p.provider.awareness.getStates().size === n), 60000)
    peers.forEach((p, i) => p.text.insert(p.text.length, `[m${i}]`))
    const marks = peers.map((_, i) => `[m${i}]`)
    await until('every edit at every peer', () =>
      peers.every((p) => marks.every((m) => p.text.toString().includes(m))), 60000)
    const shown = [...peers[0].provider.awareness.getStates().entries()]
      .filter(([id]) => id !== peers[0].doc.clientID)
      .map(([, s]) => s.user?.name)
    done({ complete: true, closes, names: shown.sort(), expected: names.slice(1).sort() })
  } else {
    throw new Error('unknown mode ' + mode)
  }
} catch (e) {
  console.log('error ' + JSON.stringify({ message: String(e && e.message), closes }))
  process.exitCode = 1
} finally {
  closing = true
  for (const p of peers) p.provider.destroy()
  setTimeout(() => process.exit(), 50)
}
