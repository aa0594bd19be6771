// The harness of the browser tests: the real `xieshang` binary on a fresh data
// dir (with the demo committee), headless Debian Chromium driven by
// playwright-core, and small helpers that poll conditions instead of sleeping.
//
// Environment:
//   XIESHANG_BIN         the server binary (`cargo xtask test` sets it); else
//                        <target>/debug/xieshang, then <target>/release/xieshang
//   XIESHANG_STATIC_DIR  serve the client from this folder (`--static-dir`);
//                        else the binary's own (embedded, or client/dist for a debug build)
//   XIESHANG_CHROMIUM    the browser (default /usr/bin/chromium)
//   CARGO_TARGET_DIR     where the artifacts go: <target>/e2e-artifacts
//   XIESHANG_E2E_SLOWMO  milliseconds between browser actions, for watching a run
//
// No test waits a fixed time for a result: `waitFor` polls a condition until a
// generous deadline (the CI machine has 2 cores shared with other builds).

import { spawn } from 'node:child_process'
import { once } from 'node:events'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import readline from 'node:readline'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const TARGET_DIR = process.env.CARGO_TARGET_DIR
  ? path.resolve(ROOT, process.env.CARGO_TARGET_DIR)
  : path.join(ROOT, 'target')
export const ARTIFACTS = path.join(TARGET_DIR, 'e2e-artifacts')

/// Default deadline of a wait: generous, the machine is slow.
export const WAIT_MS = Number(process.env.XIESHANG_E2E_WAIT_MS || 60_000)
/// Deadline of one whole test.
export const TEST_TIMEOUT_MS = Number(process.env.XIESHANG_E2E_TEST_TIMEOUT_MS || 420_000)

export const DEMO_PASSWORD = 'demo1234'

const LISTENING = /xieshang listening on (http:\/\/\S+)/

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/// Polls `cond` (sync or async) until it returns a truthy value, which is
/// returned; fails after `timeout` with `what` and the last value or error seen.
export async function waitFor (what, cond, { timeout = WAIT_MS, interval = 100 } = {}) {
  const deadline = Date.now() + timeout
  let last
  for (;;) {
    try {
      const value = await cond()
      if (value) return value
      last = value
    } catch (e) {
      last = e
    }
    if (Date.now() > deadline) {
      const seen = last instanceof Error ? `error: ${last.message}` : `last value: ${JSON.stringify(last)}`
      throw new Error(`timed out after ${timeout} ms waiting for ${what} (${seen})`)
    }
    await sleep(interval)
  }
}

/// The server binary under test.
export function serverBinary () {
  const candidates = process.env.XIESHANG_BIN
    ? [process.env.XIESHANG_BIN]
    : [path.join(TARGET_DIR, 'debug', 'xieshang'), path.join(TARGET_DIR, 'release', 'xieshang')]
  const found = candidates.find((p) => fs.existsSync(p))
  if (!found) {
    throw new Error(`no xieshang binary (looked at ${candidates.join(', ')}); ` +
      'run `cargo xtask test`, or build the client and `cargo build -p xieshang-server` and set XIESHANG_BIN')
  }
  return found
}

/// A running `xieshang serve` on its own data dir. `restart()` brings it back on
/// the same data and the same port, so open pages reconnect to it by themselves.
export class Server {
  constructor ({ demo = true } = {}) {
    this.bin = serverBinary()
    this.dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'xieshang-e2e-'))
    this.demo = demo
    this.child = null
    this.url = null
    this.port = 0
    this.starts = 0
  }

  /// Starts a server (port 0 the first time: the kernel picks a free one).
  static async start (opts) {
    const server = new Server(opts)
    await server.spawn('127.0.0.1:0')
    return server
  }

  logPath (n = this.starts) {
    return path.join(this.dataDir, `server-${n}.log`)
  }

  logTail (n = this.starts, lines = 40) {
    try {
      return fs.readFileSync(this.logPath(n), 'utf8').split('\n').slice(-lines).join('\n')
    } catch {
      return '(no log)'
    }
  }

  async spawn (addr) {
    this.starts += 1
    const n = this.starts
    const args = ['serve', '--addr', addr, '--data', this.dataDir]
    if (this.demo) args.push('--demo')
    if (process.env.XIESHANG_STATIC_DIR) args.push('--static-dir', process.env.XIESHANG_STATIC_DIR)
    const log = fs.openSync(this.logPath(n), 'a')
    const child = spawn(this.bin, args, { stdio: ['ignore', 'pipe', log] })
    fs.closeSync(log)
    this.child = child
    const exited = once(child, 'exit').then(([code, signal]) => ({ code, signal }))
    const lines = readline.createInterface({ input: child.stdout })
    const listening = new Promise((resolve) => {
      lines.on('line', (line) => {
        const m = LISTENING.exec(line)
        if (m) resolve(m[1].replace(/\/$/, ''))
      })
    })
    let timer
    const timeout = new Promise((resolve) => { timer = setTimeout(() => resolve(null), WAIT_MS) })
    const url = await Promise.race([listening, exited.then(() => undefined), timeout])
    clearTimeout(timer)
    if (!url) {
      if (url === null) child.kill('SIGKILL')
      throw new Error(`xieshang did not start (${this.bin} ${args.join(' ')}); log:\n${this.logTail(n)}`)
    }
    this.url = url
    this.port = Number(new URL(url).port)
    this.exited = exited
    return url
  }

  /// Stops the server: SIGTERM, then SIGKILL if it has not exited within 10 s
  /// (graceful shutdown may wait on open WebSockets).
  async stop () {
    const child = this.child
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    let timer
    const late = new Promise((resolve) => { timer = setTimeout(() => resolve('late'), 10_000) })
    if (await Promise.race([this.exited, late]) === 'late') {
      child.kill('SIGKILL')
      await this.exited
    }
    clearTimeout(timer)
    this.child = null
  }

  /// Starts the server again on the same data dir and the same port; retries
  /// while the port is still held by the old process' sockets.
  async restart () {
    await this.stop()
    const addr = `127.0.0.1:${this.port}`
    const firstUrl = this.url
    let lastError
    const deadline = Date.now() + WAIT_MS
    while (Date.now() < deadline) {
      try {
        await this.spawn(addr)
        if (this.url !== firstUrl) throw new Error(`restarted on ${this.url}, not ${firstUrl}`)
        return
      } catch (e) {
        lastError = e
        await sleep(500)
      }
    }
    throw lastError
  }

  /// Stops the server and removes its data dir (kept when KEEP_DATA is set, for a post-mortem).
  async close () {
    await this.stop()
    if (!process.env.XIESHANG_E2E_KEEP_DATA) {
      fs.rmSync(this.dataDir, { recursive: true, force: true })
    } else {
      console.log(`server data and logs kept in ${this.dataDir}`)
    }
  }

  /// A REST client for `username` (signs in through the API).
  async api (username, password = DEMO_PASSWORD) {
    const api = new Api(this)
    await api.login(username, password)
    return api
  }
}

/// The JSON API with one user's token.
export class Api {
  constructor (server) {
    this.server = server
    this.token = null
    this.user = null
  }

  async login (username, password = DEMO_PASSWORD) {
    const body = await this.call('POST', '/api/session', { username, password })
    this.token = body.token
    this.user = body.user
    return body
  }

  async raw (method, route, body) {
    const headers = {}
    if (this.token) headers.authorization = `Bearer ${this.token}`
    if (body !== undefined) headers['content-type'] = 'application/json'
    return fetch(this.server.url + route, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body)
    })
  }

  /// Calls the API and answers the JSON body; fails on a status other than 2xx.
  async call (method, route, body) {
    const res = await this.raw(method, route, body)
    const text = await res.text()
    if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${text}`)
    return text ? JSON.parse(text) : null
  }

  get (route) { return this.call('GET', route) }
  post (route, body) { return this.call('POST', route, body ?? {}) }
  put (route, body) { return this.call('PUT', route, body ?? {}) }

  topics () { return this.get('/api/topics') }
  doc (docId) { return this.get(`/api/docs/${docId}`) }
  async draftBody (docId) { return (await this.doc(docId)).content.body }
  versions (docId) { return this.get(`/api/docs/${docId}/versions`) }

  /// The demo topic whose title contains `needle`.
  async topic (needle) {
    const all = await this.topics()
    const t = all.find((x) => x.title.includes(needle))
    if (!t) throw new Error(`no topic with ${JSON.stringify(needle)} among ${all.map((x) => x.title).join(' | ')}`)
    return t
  }
}

// ---------------------------------------------------------------- browser

/// Flags for Debian Chromium as root in a container (TOOLCHAIN.md).
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage'
]

/// Headless Chromium. playwright launches it on a fresh temporary profile
/// (its own `--user-data-dir`), removed when the browser closes.
export async function launchBrowser () {
  const executablePath = process.env.XIESHANG_CHROMIUM || '/usr/bin/chromium'
  if (!fs.existsSync(executablePath)) {
    throw new Error(`${executablePath} is missing: apt-get install -y chromium chromium-driver (cargo xtask test does)`)
  }
  return chromium.launch({
    executablePath,
    headless: true,
    args: CHROMIUM_ARGS,
    slowMo: Number(process.env.XIESHANG_E2E_SLOWMO || 0),
    timeout: WAIT_MS
  })
}

/// A fresh browser context (its own cookies, storage, IndexedDB, service
/// workers) with one page; browser errors are collected for failure messages.
export async function newUser (browser, server, { locale = 'zh-CN' } = {}) {
  const context = await browser.newContext({
    baseURL: server.url,
    locale,
    viewport: { width: 1280, height: 860 },
    acceptDownloads: true
  })
  context.setDefaultTimeout(WAIT_MS)
  context.setDefaultNavigationTimeout(WAIT_MS)
  const page = await context.newPage()
  const errors = []
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`))
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`) })
  page.errors = errors
  return { context, page, errors }
}

/// Signs in through the sign-in page and waits for the topic list.
export async function login (page, username, password = DEMO_PASSWORD) {
  await page.goto('/login')
  await page.getByTestId('login-username').fill(username)
  await page.getByTestId('login-password').fill(password)
  await page.getByTestId('login-submit').click()
  await page.getByTestId('topic-list').waitFor({ state: 'visible' })
}

/// The body editor of the open document.
export const body = (page) => page.getByTestId('draft-body')

/// The (first) sync indicator on the page: `{state, pending}`.
export async function syncStatus (page) {
  const el = page.getByTestId('sync-status').first()
  const [state, pending] = await Promise.all([
    el.getAttribute('data-state', { timeout: 5_000 }),
    el.getAttribute('data-pending', { timeout: 5_000 })
  ])
  return { state, pending: pending === null ? null : Number(pending) }
}

/// The indicator read at one instant: `{state, pending, text}`, text being what
/// the member reads ("离线，3 处修改未发送").
export const statusShown = (page) =>
  page.getByTestId('sync-status').first().evaluate((n) => ({
    state: n.getAttribute('data-state'),
    pending: Number(n.getAttribute('data-pending')),
    text: n.textContent.trim()
  }), undefined, { timeout: 5_000 })

/// Waits until the indicator satisfies `pred({state, pending})`; answers it.
export async function waitForStatus (page, what, pred, opts) {
  let seen
  await waitFor(`sync-status ${what}`, async () => {
    seen = await syncStatus(page)
    return pred(seen)
  }, opts).catch((e) => {
    throw new Error(`${e.message}; indicator: ${JSON.stringify(seen)}`)
  })
  return seen
}

export const isSynced = (s) => s.state === 'synced' && s.pending === 0

/// Opens the editor of `docId` and waits until its body is shown and synced.
export async function openDoc (page, docId, { testid = 'draft-body', synced = true } = {}) {
  await page.goto(`/docs/${docId}`)
  await page.getByTestId(testid).waitFor({ state: 'visible' })
  if (synced) await waitForStatus(page, 'synced after opening', isSynced)
}

/// Opens the draft editor of `docId` (synced, body shown).
export const openDraft = (page, docId, opts) => openDoc(page, docId, opts)

/// The editor's text.
export const valueOf = (page, testid = 'draft-body') => page.getByTestId(testid).inputValue()

/// Puts the caret at `pos` (UTF-16 units, as the textarea counts) of the
/// `testid` textarea and types `text` key by key.
export async function typeAt (page, pos, text, { testid = 'draft-body', delay = 20 } = {}) {
  const el = page.getByTestId(testid)
  await el.focus()
  await el.evaluate((node, p) => {
    const at = p < 0 ? node.value.length : Math.min(p, node.value.length)
    node.setSelectionRange(at, at)
  }, pos)
  await page.keyboard.type(text, { delay })
}

/// Types at the caret where it is now (no click: the caret must stay put).
export const typeHere = (page, text, { delay = 20 } = {}) => page.keyboard.type(text, { delay })

/// The caret of the `testid` textarea: `{start, end, focused}`.
export const caretOf = (page, testid = 'draft-body') =>
  page.getByTestId(testid).evaluate((node) => ({
    start: node.selectionStart,
    end: node.selectionEnd,
    focused: document.activeElement === node
  }))

/// The text a user sees in `n`: a field's value, or the text of an element
/// followed by the values of the fields inside it (one a line).
function textOfNode (n) {
  if ('value' in n && typeof n.value === 'string') return n.value
  const fields = [...n.querySelectorAll('input, textarea, select')].map((f) => f.value)
  return [n.textContent, ...fields].join('\n')
}

/// Waits until the `testid` element's text/value satisfies `pred` (or contains
/// `pred` when a string); answers the text.
export async function waitForText (page, pred, { testid = 'draft-body', timeout } = {}) {
  const test = typeof pred === 'string' ? (t) => t.includes(pred) : pred
  let text
  await waitFor(`text of ${testid} ${typeof pred === 'string' ? 'containing ' + JSON.stringify(pred) : 'to match'}`,
    async () => {
      const el = page.getByTestId(testid).first()
      text = await el.evaluate(textOfNode, undefined, { timeout: 5_000 })
      return test(text)
    }, { timeout }).catch((e) => {
    throw new Error(`${e.message}; text now: ${JSON.stringify(text)}`)
  })
  return text
}

/// Waits until every page's body and the server's body are one and the same
/// text, and every page's indicator says synced; answers that text.
export async function waitForConvergence (api, docId, pages, { field = 'body', testid = 'draft-body', timeout } = {}) {
  let seen
  await waitFor(`convergence of doc ${docId} across ${pages.length} page(s) and the server`, async () => {
    const server = (await api.doc(docId)).content[field]
    const texts = await Promise.all(pages.map((p) => valueOf(p, testid)))
    const states = await Promise.all(pages.map((p) => syncStatus(p)))
    seen = { server, texts, states }
    return texts.every((t) => t === server) && states.every(isSynced)
  }, { timeout }).catch((e) => {
    throw new Error(`${e.message}\n${JSON.stringify(seen, null, 1)}`)
  })
  return seen.server
}

/// `needle` appears in `text` exactly once, contiguous.
export function countOf (text, needle) {
  let n = 0
  for (let i = text.indexOf(needle); i !== -1; i = text.indexOf(needle, i + needle.length)) n += 1
  return n
}

/// Where the screenshots and downloads of this run go (created on demand).
export function artifactPath (name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true })
  return path.join(ARTIFACTS, name)
}

/// Saves a screenshot of `page` as an artifact and prints its path.
export async function screenshot (page, name) {
  const file = artifactPath(name)
  await page.screenshot({ path: file, fullPage: true })
  console.log(`artifact: ${file}`)
  return file
}

/// On failure, a screenshot of each page (as `failed-<label>-<n>.png`) and the
/// browser errors, to make the report useful.
export async function postMortem (label, users) {
  const notes = []
  for (const [i, u] of users.entries()) {
    if (!u?.page) continue
    try {
      const file = artifactPath(`failed-${label}-${i}.png`)
      await u.page.screenshot({ path: file, fullPage: true, timeout: 10_000 })
      notes.push(`screenshot ${file} (${u.page.url()})`)
    } catch (e) {
      notes.push(`no screenshot of page ${i}: ${e.message}`)
    }
    if (u.errors?.length) notes.push(`page ${i} errors:\n  ${u.errors.slice(-15).join('\n  ')}`)
  }
  if (notes.length) console.log(`post-mortem ${label}:\n  ${notes.join('\n  ')}`)
}

/// One server and one browser for a test file, closed at the end.
export async function setup () {
  const server = await Server.start()
  let browser
  try {
    browser = await launchBrowser()
  } catch (e) {
    await server.close()
    throw e
  }
  return {
    server,
    browser,
    async close () {
      await browser.close().catch(() => {})
      await server.close()
    }
  }
}
