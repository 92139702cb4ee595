'use strict'
// The emulator's Node worker: it runs one cloud function job at a time.
// Jobs arrive as lines on fd 3; answers, log lines and fatal reports leave
// as lines on fd 4 ("L ..." a log line, "D ..." a success, else JSON),
// written synchronously so that they keep their order and still go out
// from an 'exit' handler. The function's own stdout
// and stderr are turned into log lines of the running job.
const fs = require('fs')
const net = require('net')
const path = require('path')
const util = require('util')
const http = require('http')

// Kept before any function runs: a function may replace JSON.stringify or
// util.format on its globals, and the worker's own messages must not change.
const stringify = JSON.stringify
const format = util.format
const inspect = util.inspect
const parse = JSON.parse

const OUT = 4
let init = null // {url, clientId, callerHeader, callerKey, syncTimeoutMs}
let current = null // the running job: {id, answered, result, env}
let exiting = false

function send (msg) {
  sendLine(stringify(msg) + '\n')
}

function sendLine (line) {
  let off = 0
  const buf = Buffer.from(line)
  while (off < buf.length) {
    try {
      off += fs.writeSync(OUT, buf, off)
    } catch (e) {
      if (e.code !== 'EAGAIN') throw e
    }
  }
}

// Log lines leave at once, each in one write: a function may loop, run out
// of memory or be killed at its deadline right after logging, and its log
// must still hold what it wrote.
function log (level, text) {
  // "L <time> <LEVEL> <message as a JSON string>": cheap to read in Go.
  sendLine(`L ${new Date().toISOString()} ${level} ${stringify(text)}\n`)
}

// console.* become job log lines, formatted as util.format formats them.
const levels = { log: 'INFO', info: 'INFO', warn: 'WARN', error: 'ERROR', debug: 'DEBUG', trace: 'DEBUG' }
for (const [name, level] of Object.entries(levels)) {
  console[name] = (...args) => log(level, format(...args))
}

// Direct writes to stdout/stderr become log lines too, one per line.
const partial = { INFO: '', ERROR: '' }
function hookStream (stream, level) {
  stream.write = function (chunk, encoding, cb) {
    if (typeof encoding === 'function') { cb = encoding; encoding = undefined }
    let s = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString(encoding || 'utf8')
    s = partial[level] + s
    const lines = s.split('\n')
    partial[level] = lines.pop()
    for (const l of lines) log(level, l)
    if (cb) process.nextTick(cb)
    return true
  }
}
hookStream(process.stdout, 'INFO')
hookStream(process.stderr, 'ERROR')
function flushPartial () {
  for (const level of Object.keys(partial)) {
    if (partial[level] !== '') { log(level, partial[level]); partial[level] = '' }
  }
}

// ---- the BaaS global ----

const defaultTexts = {
  400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required', 403: 'Forbidden',
  404: 'Not Found', 500: 'Internal Server Error', 600: 'network disconnected', 601: 'request timeout',
  602: 'uninitialized', 603: 'unauthorized', 604: 'session missing', 605: 'incorrect parameter type',
  611: 'unsupported function'
}

// HError is the official SDK's error: code, and message "<code>: <text>".
class HError extends Error {
  constructor (code, text) {
    super(`${code}: ${text || defaultTexts[code] || 'unknown error'}`)
    this.name = 'HError'
    this.code = code
  }
}

function request (method, urlPath, body, timeoutMs) {
  return new Promise((resolve, reject) => {
    if (!init) return reject(new HError(602))
    const payload = Buffer.from(stringify(body))
    const headers = {
      'Content-Type': 'application/json',
      'Content-Length': payload.length,
      'X-Hydrogen-Client-ID': init.clientId,
      [init.callerHeader]: init.callerKey
    }
    if (current && current.envId) headers['X-Hydrogen-Env-ID'] = current.envId
    const req = http.request(init.url + urlPath, { method, headers, agent }, res => {
      const chunks = []
      res.on('data', c => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        let data
        try { data = parse(text) } catch (e) { data = text }
        if (res.statusCode >= 200 && res.statusCode < 300) {
          return resolve({ status: res.statusCode, statusText: res.statusMessage, headers: res.headers, data })
        }
        const msg = data && typeof data === 'object' ? (data.error_msg || data.message) : ''
        reject(new HError(res.statusCode, msg))
      })
      res.on('error', () => reject(new HError(600)))
    })
    req.setTimeout(timeoutMs, () => { req.destroy(new HError(601)) })
    req.on('error', e => reject(e instanceof HError ? e : new HError(600, e.message ? `network disconnected: ${e.message}` : undefined)))
    req.end(payload)
  })
}
const agent = new http.Agent({ keepAlive: true })

function invokeFunction (functionName, params, sync) {
  if (typeof functionName !== 'string' || functionName === '') return Promise.reject(new HError(605))
  const isSync = sync === undefined ? true : !!sync
  const body = { function_name: functionName, sync: isSync }
  if (params !== undefined) body.data = params
  const timeout = isSync ? init.syncTimeoutMs : 30000
  return request('POST', '/hserve/v1/cloud-function/job/', body, timeout)
}

function unsupported (name) {
  const fail = () => { throw new HError(611, `unsupported function: BaaS.${name} is not provided by the emulator`) }
  // A function that also fails when constructed or when any member is
  // read off it as a function (BaaS.User.getCurrentUser(), new BaaS.TableObject(...)).
  return new Proxy(function () {}, {
    apply: fail,
    construct: fail,
    get (target, prop) {
      if (typeof prop === 'symbol' || prop === 'prototype') return target[prop]
      // Not a thenable, nor JSON, so that returning or logging it is harmless.
      if (prop === 'then' || prop === 'toJSON') return undefined
      if (prop === 'toString' || prop === 'valueOf') return () => `[BaaS.${name}: not provided by the emulator]`
      return unsupported(`${name}.${String(prop)}`)
    }
  })
}

let version = 'v2'
const BaaS = {
  VERSION: 'v2',
  invoke: (name, params, sync) => invokeFunction(name, params, sync).then(res => res.data),
  invokeFunction,
  useVersion (v) { version = String(v); this.VERSION = version; return this },
  HError
}
for (const name of [
  'TableObject', 'TableSchema', 'Query', 'User', 'File', 'FileCategory', 'ContentGroup', 'Content',
  'ContentCategory', 'UserGroup', 'GeoPoint', 'GeoPolygon', 'Order', 'request', 'sendEmail',
  'sendSmsVerificationCode', 'verifySmsCode', 'sendSmsMessage', 'sendTemplateMessage',
  'sendSubscribeMessage', 'wxAccessToken', 'wxDecryptData', 'wechat', 'alipay', 'qq', 'baidu',
  'getServerDate', 'getAsyncJobResult', 'createAuthToken', 'auth', 'storage', 'PipelineOperation'
]) {
  BaaS[name] = unsupported(name)
}
// The data API (TableObject, Query, GeoPoint, ...) lives in baas_data.js, beside this file.
require(path.join(__dirname, 'baas_data.js'))(BaaS, {
  HError,
  target: () => init && { url: init.url, clientId: init.clientId, callerHeader: init.callerHeader, callerKey: init.callerKey, envId: current ? current.envId : '' }
})
global.BaaS = BaaS

// ---- running a job ----

const loaded = new Map() // function name -> {key, main}

function shortWhere (file, display, stack) {
  // The "file:line" of the first place the error points into the file.
  const s = String(stack || '')
  const head = s.split('\n')[0]
  let m = head.startsWith(file + ':') && head.slice(file.length + 1).match(/^(\d+)/)
  if (!m) {
    const esc = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    m = s.match(new RegExp(esc + ':(\\d+)'))
  }
  return m ? `${display}:${m[1]}` : display
}

// LoadError carries why a function's file did not load, as the answer's error.
class LoadError {
  constructor (info) { this.info = info }
}

// forget drops the cached modules of a function's file and folder.
function forget (file, root) {
  for (const k of Object.keys(require.cache)) {
    if (k === file || (root !== file && k.startsWith(root + path.sep))) delete require.cache[k]
  }
}

function load (job) {
  const have = loaded.get(job.name)
  if (have && have.key === job.key) return have.main
  // A new version: forget this function's modules, the old version's
  // (registered code gets a new file each time) as well as the new path's.
  if (have) forget(have.file, have.root)
  forget(job.file, job.root)
  loaded.delete(job.name)
  let mod
  try {
    mod = require(job.file)
  } catch (e) {
    const info = toError(e)
    info.message = `${info.message} (${shortWhere(job.file, job.display, e && e.stack)})`
    throw new LoadError(info)
  }
  const main = mod && mod.main
  if (typeof main !== 'function') {
    const message = `${job.display} does not export a main function: set exports.main = function (event, callback) { ... }`
    throw new LoadError({ type: 'TypeError', message, stack: `TypeError: ${message}\n    at ${job.file}:1` })
  }
  loaded.set(job.name, { key: job.key, file: job.file, root: job.root, main })
  return main
}

// ownStack drops the frames of this script and of Node's module loader
// below the function's own, which say nothing to its author.
function ownStack (stack) {
  return stack.split('\n').filter(l => !l.includes(__filename)).join('\n')
}

function toError (e) {
  if (e instanceof Error || (e && typeof e === 'object' && typeof e.message === 'string')) {
    const ctor = e.constructor && e.constructor.name
    const type = ctor && ctor !== 'Object' ? ctor : 'Error' // a thrown {message} is an Error to its reader
    return { message: String(e.message), stack: typeof e.stack === 'string' ? ownStack(e.stack) : undefined, type }
  }
  if (typeof e === 'string') return { message: e, type: 'Error' }
  return { message: inspect(e), type: 'Error' }
}

function answer (err, data) {
  const job = current
  if (!job || job.answered) return
  job.answered = true
  if (err !== null && err !== undefined) {
    job.result = { code: 1, data: null, error: toError(err) }
    return
  }
  let encoded
  try {
    encoded = stringify(data === undefined ? null : data)
  } catch (e) {
    job.result = { code: 1, data: null, error: { type: 'TypeError', message: `the function's result cannot be encoded as JSON: ${e.message}`, stack: e.stack } }
    return
  }
  job.result = { code: 0, raw: encoded === undefined ? 'null' : encoded }
}

let lastName = null

function run (job) {
  if (job.name !== lastName) {
    // Another function's useVersion does not carry over to this one.
    version = 'v2'
    BaaS.VERSION = version
    lastName = job.name
  }
  current = { id: job.id, answered: false, result: null, envId: job.event && job.event.env ? job.event.env.id : '' }
  input.unref() // the loop may now drain: see 'beforeExit'
  let main
  try {
    main = load(job)
  } catch (e) {
    if (!(e instanceof LoadError)) throw e
    current.answered = true
    current.result = { code: 1, data: null, error: e.info }
    return
  }
  try {
    const ret = main.call(undefined, job.event, answer)
    if (ret && typeof ret.then === 'function') {
      ret.then(v => { if (v !== undefined) answer(null, v) }, e => answer(e === undefined || e === null ? new Error(String(e)) : e))
    }
  } catch (e) {
    answer(e)
  }
}

// rss is process.memoryUsage.rss(), the resident memory, read on every
// job with one pread of /proc/self/statm kept open rather than an open, a
// read and a close of /proc/self/stat; elsewhere it is Node's own.
const statmBuf = Buffer.alloc(256)
let statm = -1
let pageSize = 0
try {
  statm = fs.openSync('/proc/self/statm', 'r')
  // statm counts pages: the page size is the power of two that matches.
  pageSize = 2 ** Math.round(Math.log2(process.memoryUsage.rss() / statmPages()))
  if (!(pageSize >= 1024)) throw new Error('unexpected page size')
} catch (e) {
  if (statm >= 0) fs.closeSync(statm)
  statm = -1
}
function statmPages () {
  const n = fs.readSync(statm, statmBuf, 0, statmBuf.length, 0)
  return Number(statmBuf.toString('latin1', 0, n).split(' ')[1])
}
function rss () {
  if (statm >= 0) {
    try { return statmPages() * pageSize } catch (e) {}
  }
  return process.memoryUsage().rss // memoryUsage.rss() is Node 14.18+; the platform runs Node 12
}

// The loop drained: the job ends now, with its answer if it gave one.
process.on('beforeExit', () => {
  if (!current) return
  const job = current
  flushPartial()
  input.ref()
  if (!job.answered) return // undefined from an async function: runs to its deadline
  current = null
  const mem = rss()
  const r = job.result
  if (r.code === 0) {
    // "D <id> <mem> 0 <data as JSON>": the data spliced in exactly as
    // stringified.
    sendLine(`D ${job.id} ${mem} 0 ${r.raw}\n`)
  } else {
    send({ t: 'done', id: job.id, mem, code: r.code, error: r.error }) // a failure is rare: plain JSON
  }
})

function fatal (message, e) {
  if (exiting) return
  exiting = true
  flushPartial()
  const err = e === undefined ? { type: 'Error', message } : toError(e)
  send({ t: 'fatal', message: `${message}${err.message ? ': ' + err.message : ''}`, type: err.type, stack: err.stack })
  process.exit(70)
}
process.on('uncaughtException', e => fatal('uncaught exception', e))
process.on('unhandledRejection', e => fatal('unhandled promise rejection', e === undefined ? new Error('undefined') : e))
process.on('exit', code => {
  if (exiting) return
  exiting = true
  flushPartial()
  send({ t: 'fatal', message: `the function called process.exit(${code})`, type: 'Error' })
})

const input = new net.Socket({ fd: 3, readable: true, writable: false })
let buffered = ''
input.setEncoding('utf8')
input.on('data', chunk => {
  buffered += chunk
  let i
  while ((i = buffered.indexOf('\n')) >= 0) {
    const line = buffered.slice(0, i)
    buffered = buffered.slice(i + 1)
    const msg = parse(line)
    if (msg.t === 'init') {
      init = msg
      send({ t: 'ready' })
    } else if (msg.t === 'run') {
      run(msg)
    }
  }
})
input.on('end', () => { exiting = true; process.exit(0) })
