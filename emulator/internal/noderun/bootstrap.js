'use strict'
// The emulator's Node worker. It serves one cloud function (one version
// of its code) for its whole life, one job at a time, as a platform
// container does.
//
// Its settings, with the secret that starts every line it sends, come on
// fd 5, read to its end and closed before any function runs, so that no
// function can read them. Jobs arrive as JSON lines on fd 3. Everything
// leaves as lines on fd 4, "<secret> <kind> ...", written synchronously so
// that they keep their order and still go out from an 'exit' handler:
//   R                       ready
//   A <id>                  the job arrived (sent with the job's first line)
//   L <id> <time> <LEVEL> <message as a JSON string>   a log line of job id
//   D <id> <mem> <data>     job id answered; data is its JSON, as is
//   F <id> <mem> <error>    job id failed; error is {type, message, stack}
//   N <id> <message>        a note for job id, which has ended (a late answer)
//   X <id> <error>          last words: the worker is about to die
//   C <n> <report>          the answer to syntax check n, a JSON string
// A function can write to fd 4 too, but not the secret: the emulator ends
// a worker at the first line that is not exactly this.
const fs = require('fs')
const net = require('net')
const path = require('path')
const util = require('util')
const http = require('http')
const vm = require('vm')
const { AsyncLocalStorage } = require('async_hooks')

// The worker's own references, taken before any function runs: a function
// may replace JSON.stringify, util.format, fs.writeSync, Date or
// process.exit on its globals, and the worker's own messages must not
// change, nor its secret reach the function's code.
const stringify = JSON.stringify
const parse = JSON.parse
const format = util.format
const inspect = util.inspect
const writeSync = fs.writeSync
const readSync = fs.readSync
const closeSync = fs.closeSync
const byteLength = Buffer.byteLength
const bufferFrom = Buffer.from
const bufferConcat = Buffer.concat
const bufferAlloc = Buffer.alloc
const apply = Reflect.apply
const u8IndexOf = Uint8Array.prototype.indexOf
const u8Subarray = Uint8Array.prototype.subarray
const bufToString = Buffer.prototype.toString
const DateCtor = Date
const toISOString = Date.prototype.toISOString
const exit = process.exit
const memoryUsage = process.memoryUsage
const isoNow = () => apply(toISOString, new DateCtor(), [])

// readSettings reads fd 5 to its end and closes it.
function readSettings () {
  const chunks = []
  const buf = bufferAlloc(4096)
  for (;;) {
    let n
    try {
      n = readSync(5, buf, 0, buf.length, null)
    } catch (e) {
      if (e.code === 'EAGAIN') continue
      throw e
    }
    if (n === 0) break
    chunks.push(bufferFrom(buf.subarray(0, n)))
  }
  closeSync(5)
  return parse(bufferConcat(chunks).toString('utf8'))
}
// init: {secret, url, clientId, callerHeader, callerKey, syncTimeoutMs, maxResult, maxLog}
const init = readSettings()
const SECRET = init.secret
delete init.secret

const OUT = 4
let exiting = false

// out writes one line to the emulator, whole.
// The acknowledgement of a job goes out with the job's first line, not in a
// write of its own, where the emulator can see that the worker has read
// the job (init.lazyAck); elsewhere at once.
let pendingAck = ''
function out (line) {
  const s = `${pendingAck}${SECRET} ${line}\n`
  pendingAck = ''
  const total = byteLength(s)
  let n = 0
  try {
    n = writeSync(OUT, s)
  } catch (e) {
    if (e.code !== 'EAGAIN') throw e
  }
  if (n >= total) return
  const b = bufferFrom(s)
  while (n < b.length) {
    try {
      n += writeSync(OUT, b, n)
    } catch (e) {
      if (e.code !== 'EAGAIN') throw e
    }
  }
}

// The job a piece of code belongs to: the store of the job whose code
// scheduled it (a timer left by an ended job stays that job's), else the
// running job.
const als = new AsyncLocalStorage()
let current = null // the running job: {id, answered, ended, result, envId, partial}
function jobNow () { return als.getStore() || current }

// cut keeps a log message within the limit the emulator keeps.
function cut (text) {
  if (text.length > init.maxLog) return text.slice(0, init.maxLog) + ` … (cut: the line was longer than ${init.maxLog} characters)`
  return text
}

// Log lines leave at once, each in one write: a function may loop, run out
// of memory or be killed at its deadline right after logging, and its log
// must still hold what it wrote.
function log (level, text, job = jobNow()) {
  out(`L ${job ? job.id : 0} ${isoNow()} ${level} ${stringify(cut(text))}`)
}

// note tells the emulator something about job, which has ended.
function note (job, text) {
  out(`N ${job.id} ${stringify(text)}`)
}

// console.* become job log lines, formatted as util.format formats them.
const levels = { log: 'INFO', info: 'INFO', warn: 'WARN', error: 'ERROR', debug: 'DEBUG', trace: 'DEBUG' }
for (const [name, level] of Object.entries(levels)) {
  console[name] = (...args) => log(level, format(...args))
}

// Direct writes to stdout/stderr become log lines too, one per line; a
// line not ended yet waits in its own job's buffer.
const idlePartial = { INFO: '', ERROR: '' }
function hookStream (stream, level) {
  stream.write = function (chunk, encoding, cb) {
    if (typeof encoding === 'function') { cb = encoding; encoding = undefined }
    const job = jobNow()
    const partial = job ? job.partial : idlePartial
    let s = typeof chunk === 'string' ? chunk : bufferFrom(chunk).toString(encoding || 'utf8')
    s = partial[level] + s
    const lines = s.split('\n')
    partial[level] = lines.pop()
    for (const l of lines) log(level, l, job)
    if (cb) process.nextTick(cb)
    return true
  }
}
hookStream(process.stdout, 'INFO')
hookStream(process.stderr, 'ERROR')
function flushPartial (job) {
  const partial = job ? job.partial : idlePartial
  for (const level of Object.keys(partial)) {
    if (partial[level] !== '') { log(level, partial[level], job); partial[level] = '' }
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
    const job = jobNow()
    if (job && job.envId) headers['X-Hydrogen-Env-ID'] = job.envId
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
  target: () => init && { url: init.url, clientId: init.clientId, callerHeader: init.callerHeader, callerKey: init.callerKey, envId: (jobNow() || {}).envId || '' }
})
global.BaaS = BaaS

// ---- running a job ----

let loaded = null // {key, main}: the one function this worker serves

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

function load (job) {
  if (loaded) {
    if (loaded.key !== job.key) protocolBroken(`a job of ${job.key} came to the worker of ${loaded.key}`)
    return loaded.main
  }
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
  loaded = { key: job.key, main }
  return main
}

// ownStack keeps the frames of the function's own code: this script's,
// the data API's (baas_data.js), Node's (node:internal, node:events: the
// pipe that brought the job) and the module loader's say nothing to its
// author.
const dataAPIFile = path.join(__dirname, 'baas_data.js')
function ownStack (stack) {
  return stack.split('\n').filter(l => !(l.includes(__filename) || l.includes(dataAPIFile) || /^\s+at .*\bnode:/.test(l))).join('\n')
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

// answerFor is job's callback: the first answer counts; one after the job
// has ended is dropped and noted in that job's record, never another's.
function answerFor (job) {
  return function callback (err, data) {
    if (job.ended) {
      note(job, 'the function answered again after its job had ended; the answer was dropped')
      return
    }
    if (job.answered) return
    job.answered = true
    if (err !== null && err !== undefined) {
      job.result = { ok: false, error: toError(err) }
      return
    }
    let encoded
    try {
      encoded = stringify(data === undefined ? null : data)
    } catch (e) {
      job.result = { ok: false, error: { type: 'TypeError', message: `the function's result cannot be encoded as JSON: ${e.message}`, stack: e.stack } }
      return
    }
    if (encoded === undefined) encoded = 'null'
    if (encoded.length > init.maxResult && byteLength(encoded) > init.maxResult) {
      const message = `the function's result is too large: ${byteLength(encoded)} bytes of JSON, over the emulator's limit of ${init.maxResult} bytes`
      job.result = { ok: false, error: { type: 'RangeError', message, stack: `RangeError: ${message}` } }
      return
    }
    job.result = { ok: true, raw: encoded }
  }
}

// check parses a function's file as Node loads a module, without running
// it, for the emulator's syntax check at registration: "" or the error's
// stack, which starts "<file>:<line>", the code, a caret, "SyntaxError: ...".
// It runs no code of the function: the worker stays blank.
function check (msg) {
  let report = ''
  try {
    vm.compileFunction(fs.readFileSync(msg.file, 'utf8'), ['exports', 'require', 'module', '__filename', '__dirname'], { filename: msg.file })
  } catch (e) {
    report = String((e && e.stack) || e)
  }
  out(`C ${msg.id} ${stringify(report)}`)
}

function run (job) {
  if (current) protocolBroken(`job ${job.id} came while job ${current.id} ran`)
  const j = { id: job.id, answered: false, ended: false, result: null, envId: job.event && job.event.env ? job.event.env.id : '', timeLimitMs: job.event && job.event.timeLimitInMS, partial: { INFO: '', ERROR: '' } }
  current = j
  if (init.lazyAck) pendingAck = `${SECRET} A ${j.id}\n`
  else out(`A ${j.id}`)
  input.unref() // the loop may now drain: see 'beforeExit'
  als.run(j, () => {
    let main
    try {
      main = load(job)
    } catch (e) {
      if (!(e instanceof LoadError)) throw e
      j.answered = true
      j.result = { ok: false, error: e.info }
      return
    }
    const callback = answerFor(j)
    try {
      const ret = apply(main, undefined, [job.event, callback])
      if (ret && typeof ret.then === 'function') {
        ret.then(v => {
          if (v !== undefined) callback(null, v)
          else j.resolvedUndefined = true
        }, e => callback(e === undefined || e === null ? new Error(String(e)) : e))
      }
    } catch (e) {
      callback(e)
    }
  })
}

// rss is the resident memory, read on every job with one pread of
// /proc/self/statm kept open rather than an open, a read and a close of
// /proc/self/stat; elsewhere it is Node's own.
const statmBuf = bufferAlloc(256)
let statm = -1
let pageSize = 0
try {
  statm = fs.openSync('/proc/self/statm', 'r')
  // statm counts pages: the page size is the power of two that matches.
  pageSize = 2 ** Math.round(Math.log2(memoryUsage.rss() / statmPages()))
  if (!(pageSize >= 1024)) throw new Error('unexpected page size')
} catch (e) {
  if (statm >= 0) closeSync(statm)
  statm = -1
}
function statmPages () {
  const n = readSync(statm, statmBuf, 0, statmBuf.length, 0)
  return Number(statmBuf.toString('latin1', 0, n).split(' ')[1])
}
function rss () {
  if (statm >= 0) {
    try { return statmPages() * pageSize } catch (e) {}
  }
  return apply(memoryUsage, process, []).rss
}

// The loop drained: the job ends now, with its answer if it gave one.
process.on('beforeExit', () => {
  const job = current
  if (!job) return
  flushPartial(job)
  input.ref()
  if (!job.answered) {
    // undefined from an async function: as on the platform, the job runs
    // to its deadline.
    if (job.resolvedUndefined && !job.warned) {
      job.warned = true
      log('WARN', `the function's promise resolved undefined and it did not call callback: the platform waits for the job's deadline (${job.timeLimitMs} ms) and so does the emulator; return a value or call callback`, job)
    }
    return
  }
  current = null
  job.ended = true
  const mem = rss()
  const r = job.result
  if (r.ok) {
    out(`D ${job.id} ${mem} ${r.raw}`) // the data spliced in exactly as stringified
  } else {
    out(`F ${job.id} ${mem} ${stringify(r.error)}`)
  }
})

function fatal (message, e) {
  if (exiting) return
  exiting = true
  const job = current
  flushPartial(job)
  const err = e === undefined ? { type: 'Error', message: '' } : toError(e)
  out(`X ${job ? job.id : 0} ${stringify({ message: `${message}${err.message ? ': ' + err.message : ''}`, type: err.type, stack: err.stack })}`)
  apply(exit, process, [70])
}

function protocolBroken (why) {
  fatal(`protocol broken: ${why}`)
}

// An exception or rejection of code an ended job left behind (a timer)
// is that job's, noted in its record; it fails no later job. Any other
// ends the worker and the running job with it, as on the platform.
function uncaught (what, e) {
  const owner = als.getStore()
  if (owner && owner.ended) {
    const err = toError(e)
    note(owner, `${what} after the job had ended, dropped: ${err.type}: ${err.message}`)
    return
  }
  fatal(what, e)
}
process.on('uncaughtException', e => uncaught('uncaught exception', e))
process.on('unhandledRejection', e => uncaught('unhandled promise rejection', e === undefined ? new Error('undefined') : e))
process.on('exit', code => {
  if (exiting) return
  exiting = true
  const job = current
  flushPartial(job)
  out(`X ${job ? job.id : 0} ${stringify({ message: `the function called process.exit(${code})`, type: 'Error' })}`)
})

// Job lines are read from fd 3 into one buffer (the socket's onread): no
// stream, no 'data' event, no decoder between the pipe and the line; the
// piece of a line a read leaves is copied out, and a line decoded once
// whole, as UTF-8.
const inBuf = bufferAlloc(64 << 10)
let pieces = [] // the current line's earlier pieces
function onInput (nread, buf) {
  const got = apply(u8Subarray, buf, [0, nread])
  let start = 0
  for (;;) {
    const nl = apply(u8IndexOf, got, [10, start])
    if (nl < 0) break
    let line
    if (pieces.length === 0) {
      line = apply(bufToString, got, ['utf8', start, nl])
    } else {
      pieces.push(bufferFrom(apply(u8Subarray, got, [start, nl])))
      line = apply(bufToString, bufferConcat(pieces), ['utf8'])
      pieces = []
    }
    start = nl + 1
    takeLine(line)
  }
  if (start < nread) pieces.push(bufferFrom(apply(u8Subarray, got, [start, nread])))
}

function takeLine (line) {
  let msg
  try {
    msg = parse(line)
  } catch (e) {
    protocolBroken('an unreadable job line')
  }
  if (msg && msg.t === 'run') run(msg)
  else if (msg && msg.t === 'check' && !current && !loaded) check(msg)
  else protocolBroken('a line that is not a job')
}

const input = new net.Socket({ fd: 3, readable: true, writable: false, onread: { buffer: inBuf, callback: onInput } })
input.on('end', () => { exiting = true; apply(exit, process, [0]) })
out('R')
