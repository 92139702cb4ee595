'use strict'
// The data API of the BaaS global inside cloud functions: TableObject,
// Query, TableRecord, GeoPoint, GeoPolygon, getServerDate and
// getAsyncJobResult. It behaves as the official JS SDK
// (ifanrx/hydrogen-js-sdk 3.23, core/*.js) does and sends the same
// requests: the /hserve Web API paths filled in as the SDK's utils.format
// fills them (so "?&" and an empty "expand=" appear where the SDK has
// them), GET parameters encoded as its web build's axios encodes them, and
// the same JSON bodies. Requests carry the emulator's caller header, so the
// emulator serves them as a function's: super-admin, no row ACLs.
//
// Where the SDK would send nonsense we stop before sending, with HError 605
// naming what was wrong (the SDK itself checks less): a blank or missing
// table or record id, a record update() without an id or query (the SDK
// would update every record), non-object items of createMany, a non-string
// field name, compare() without a value, incrementBy() without a number.
// GeoPoint and GeoPolygon become GeoJSON wherever they appear (the SDK
// serialises them as GeoJSON only in set/append/queries), and a Date is
// sent as its ISO string (the SDK's deep copy breaks Date values). A 404
// keeps the emulator's reason after the SDK's "not found", which the SDK
// drops.
//
// bootstrap.js calls this once, before any function runs, with its HError
// and a target() giving the emulator's address and the caller key.

const http = require('http')
const https = require('https')

// Kept before any function runs: a function may replace these on its
// globals, and neither the requests nor the caller key may follow.
const httpRequest = http.request
const httpsRequest = https.request
const stringify = JSON.stringify
const parse = JSON.parse
const bufferFrom = Buffer.from
const bufferConcat = Buffer.concat
const encodeComponent = encodeURIComponent
const isArray = Array.isArray
const isInteger = Number.isInteger
const objectKeys = Object.keys
const hasOwn = Function.prototype.call.bind(Object.prototype.hasOwnProperty)

// The SDK's endpoints (core/config.js), with its placeholders.
const API = {
  QUERY_RECORD_LIST: '/hserve/v2.4/table/:tableID/record/',
  RECORD_DETAIL: '/hserve/v2.5/table/:tableID/record/:recordID/',
  CREATE_RECORD: '/hserve/v2.4/table/:tableID/record/?expand=:expand',
  CREATE_RECORD_LIST: '/hserve/v2.4/table/:tableID/record/?enable_trigger=:enable_trigger',
  UPDATE_RECORD: '/hserve/v2.5/table/:tableID/record/:recordID/?enable_trigger=:enable_trigger&expand=:expand',
  RECORD_LIST_BULK: '/hserve/v2.4/table/:tableID/record/?limit=:limit&offset=:offset&where=:where&enable_trigger=:enable_trigger&return_total_count=:return_total_count',
  SERVER_TIME: '/hserve/v2.2/server/time/',
  ASYNC_JOB: '/hserve/v1/bulk-operation/:id/'
}

const QUERY_LIMIT_DEFAULT = 20 // the SDK's constants.QUERY_LIMITATION_DEFAULT

// fillTemplate fills a path template as the SDK's utils.format does: a
// "name=:name" pair takes the URI-encoded value, or disappears with its
// leading "&" when the value is undefined (hence "?&offset=..." with no
// limit); path placeholders take the encoded value; then "//" collapses.
// params is a list of [name, value] pairs, in the SDK's key order.
function fillTemplate (template, params) {
  let url = template
  for (const [key, raw] of params) {
    const value = encodeComponent(raw)
    if (raw !== undefined) {
      url = url.split(`${key}=:${key}`).join(`${key}=${value}`)
    } else {
      url = url.split(`&${key}=:${key}`).join('').split(`${key}=:${key}`).join('')
    }
    url = url.split(`:${key}`).join(value)
  }
  return url.replace(/([^:])\/\//g, '$1/')
}

// axiosEncode encodes a GET parameter as axios 0.21 (the SDK's web build)
// does: encodeURIComponent, then a few characters put back.
function axiosEncode (v) {
  return encodeComponent(v).replace(/%3A/gi, ':').replace(/%24/g, '$').replace(/%2C/gi, ',')
    .replace(/%20/g, '+').replace(/%5B/gi, '[').replace(/%5D/gi, ']')
}

// withQuery appends GET parameters ([name, value] pairs) as axios does,
// leaving out null and undefined values.
function withQuery (path, params) {
  const parts = []
  for (const [key, v] of params) {
    if (v === null || v === undefined) continue
    parts.push(axiosEncode(key) + '=' + axiosEncode(typeof v === 'object' ? stringify(v) : v))
  }
  if (parts.length === 0) return path
  return path + (path.includes('?') ? '&' : '?') + parts.join('&')
}

// joinList is the SDK's handling of select/expand/orderBy arguments.
function joinList (v) {
  return isArray(v) ? v.join(',') : v
}

// limitWithTrigger is the SDK's getLimitationWithEnableTigger: a bulk
// update or delete sends 20 when triggers run and no limit was set, and no
// limit at all without triggers.
function limitWithTrigger (limit, enableTrigger) {
  if (limit !== null && limit !== undefined) return limit
  return enableTrigger ? QUERY_LIMIT_DEFAULT : undefined
}

function clip (s) {
  return s.length > 200 ? s.slice(0, 200) + '…' : s
}

// describe says what a bad argument was, for a 605's message.
function describe (v) {
  if (v === null) return 'null'
  if (isArray(v)) return 'an array'
  if (typeof v === 'string') return v.trim() === '' ? 'a blank string' : `the string ${clip(stringify(v))}`
  if (typeof v === 'object') return `an object (${(v.constructor && v.constructor.name) || 'Object'})`
  return `${typeof v} ${String(v)}`
}

function isID (v) {
  return (typeof v === 'string' && v.trim() !== '') || isInteger(v)
}

function isPlainObject (v) {
  return Object.prototype.toString.call(v) === '[object Object]'
}

module.exports = function installData (BaaS, { HError, target }) {
  // bad is the SDK's 605, with what was wrong after its usual text.
  function bad (what) {
    return ownFrames(new HError(605, `incorrect parameter type: ${what}`))
  }

  // ownFrames drops this file's frames from err's stack, so that it
  // points at the function's code; with a call site (an Error made when
  // the request was), the stack is the caller's, as an answer arrives
  // from Node's stream code, which says nothing to the function's author.
  function ownFrames (err, callSite) {
    const frames = String((callSite || err).stack || '').split('\n').slice(1)
    const head = `${err.name}: ${err.message}`
    err.stack = [head].concat(frames.filter(l => !l.includes(__filename))).join('\n')
    return err
  }
  function needName (method, key) {
    if (typeof key !== 'string' || key === '') throw bad(`${method} needs a field name (a non-empty string), got ${describe(key)}`)
  }

  // ---- HTTP ----

  // send makes one request to the emulator and resolves as the SDK does,
  // with {status, statusCode, statusText, headers, data}; any status
  // outside 2xx rejects with HError(status, message).
  function send (method, path, body) {
    const callSite = new Error()
    return new Promise((resolve, _reject) => {
      const reject = err => _reject(ownFrames(err, callSite))
      const t = target()
      if (!t) return reject(new HError(602))
      const headers = { 'X-Hydrogen-Client-ID': t.clientId, [t.callerHeader]: t.callerKey }
      if (t.envId) headers['X-Hydrogen-Env-ID'] = t.envId
      let payload = null
      if (body !== undefined) {
        payload = bufferFrom(body) // already JSON text
        headers['Content-Type'] = 'application/json;charset=utf-8'
        headers['Content-Length'] = payload.length
      }
      const url = t.url.replace(/\/$/, '') + path
      const requestFn = url.startsWith('https:') ? httpsRequest : httpRequest
      let req
      try {
        req = requestFn(url, { method, headers, agent: url.startsWith('https:') ? httpsAgent : httpAgent }, res => {
          const chunks = []
          res.on('data', c => chunks.push(c))
          res.on('error', e => reject(new HError(600, `network disconnected: ${e.message}`)))
          res.on('end', () => {
            const text = bufferConcat(chunks).toString('utf8')
            let data = text
            if (text !== '') {
              try { data = parse(text) } catch (e) {}
            }
            const status = res.statusCode
            if (status >= 200 && status < 300) {
              return resolve({ status, statusCode: status, statusText: res.statusMessage, headers: res.headers, data })
            }
            reject(new HError(status, errorText(status, data, text)))
          })
        })
      } catch (e) {
        return reject(new HError(600, `network disconnected: ${e.message}`))
      }
      req.on('error', e => reject(new HError(600, `network disconnected: ${e.message}`)))
      req.end(payload || undefined)
    })
  }

  // errorText is the SDK's extractErrorMsg ("not found" for every 404,
  // else error_msg, else message), except that a 404 keeps the emulator's
  // reason after the SDK's text ("404: not found: table ... does not
  // exist"), which the SDK drops; an answer with neither is quoted, short.
  function errorText (status, data, text) {
    let reason = ''
    if (data && typeof data === 'object') reason = String(data.error_msg || data.message || '')
    else if (text.trim() !== '') reason = `unexpected answer from the emulator: ${clip(text.trim())}`
    if (status === 404) return reason ? `not found: ${reason}` : 'not found'
    return reason
  }

  const httpAgent = new http.Agent({ keepAlive: true })
  const httpsAgent = new https.Agent({ keepAlive: true })

  // ---- values ----

  // A record given as a value is its id as a string ("" without one), as
  // the SDK's serializeValue does for BaseRecord.
  function recordToID (v) {
    if (v instanceof BaseRecord) return v._recordID === null || v._recordID === undefined ? '' : String(v._recordID)
    return v
  }

  // toJSONText encodes a body once, when the call is made, so that later
  // changes to the caller's objects do not reach the request.
  function toJSONText (v) {
    return stringify(v)
  }

  // ---- GeoPoint, GeoPolygon ----

  class GeoPoint {
    constructor (longitude, latitude) {
      this.longitude = longitude
      this.latitude = latitude
      this.geoJSON = { type: 'Point', coordinates: [longitude, latitude] }
    }

    toGeoJSON () {
      return { type: 'Point', coordinates: [this.longitude, this.latitude] }
    }

    toJSON () { return this.toGeoJSON() }
  }

  class GeoPolygon {
    constructor (points) {
      if (!isArray(points)) throw bad(`GeoPolygon needs an array of points, got ${describe(points)}`)
      if (points.length < 4) throw bad(`GeoPolygon needs at least 4 points (the first repeated last to close it), got ${points.length}`)
      this.points = points
      this.geoJSON = { type: 'Polygon', coordinates: [] }
    }

    toGeoJSON () {
      const face = this.points.map((p, i) => {
        if (p instanceof GeoPoint) return [p.longitude, p.latitude]
        if (isArray(p) && p.length === 2) return p.slice()
        throw bad(`GeoPolygon point ${i} must be a GeoPoint or a [longitude, latitude] pair, got ${describe(p)}`)
      })
      this.geoJSON = { type: 'Polygon', coordinates: [face] }
      return { type: 'Polygon', coordinates: [face.map(p => p.slice())] }
    }

    toJSON () { return this.toGeoJSON() }
  }

  function geoToJSON (v) {
    return v instanceof GeoPoint || v instanceof GeoPolygon ? v.toGeoJSON() : v
  }

  // ---- Query ----

  class Query {
    constructor () {
      this.queryObject = {}
    }

    static and (...queries) { return combine('$and', queries) }
    static or (...queries) { return combine('$or', queries) }

    compare (key, operator, value) {
      const op = { '=': '$eq', '!=': '$ne', '<': '$lt', '<=': '$lte', '>': '$gt', '>=': '$gte' }[operator]
      if (!op) throw bad(`compare operator must be one of = != < <= > >=, got ${describe(operator)}`)
      if (value === undefined) throw bad(`compare('${key}', '${operator}') needs a value; use isNull or notExists for missing values`)
      return this._add('compare', key, { [op]: recordToID(value) })
    }

    contains (key, str) {
      if (typeof str !== 'string' || str === '') throw bad(`contains needs a non-empty string, got ${describe(str)}`)
      return this._add('contains', key, { $contains: str })
    }

    matches (key, regExp) {
      if (!(regExp instanceof RegExp)) throw bad(`matches needs a RegExp, got ${describe(regExp)}`)
      // As the SDK's parseRegExp: the text between the slashes of
      // toString(), and the flags when there are any.
      const s = regExp.toString()
      const last = s.lastIndexOf('/')
      const cond = { $regex: s.substring(1, last) }
      if (last !== s.length - 1) cond.$options = s.substring(last + 1)
      return this._add('matches', key, cond)
    }

    in (key, arr) {
      if (!isArray(arr)) throw bad(`in needs an array, got ${describe(arr)}`)
      return this._add('in', key, { $in: arr.map(recordToID) })
    }

    notIn (key, arr) {
      if (!isArray(arr)) throw bad(`notIn needs an array, got ${describe(arr)}`)
      return this._add('notIn', key, { $nin: arr.map(recordToID) })
    }

    arrayContains (key, arr) {
      if (!isArray(arr)) throw bad(`arrayContains needs an array, got ${describe(arr)}`)
      return this._add('arrayContains', key, { $all: arr.slice() })
    }

    isNull (key) { return this._each('isNull', key, { $isnull: true }) }
    isNotNull (key) { return this._each('isNotNull', key, { $isnull: false }) }
    exists (key) { return this._each('exists', key, { $exists: true }) }
    notExists (key) { return this._each('notExists', key, { $exists: false }) }

    include (key, point) {
      if (!(point instanceof GeoPoint)) throw bad(`include needs a BaaS.GeoPoint, got ${describe(point)}`)
      return this._add('include', key, { $intersects: point.toGeoJSON() })
    }

    within (key, polygon) {
      if (!(polygon instanceof GeoPolygon)) throw bad(`within needs a BaaS.GeoPolygon, got ${describe(polygon)}`)
      return this._add('within', key, { $within: polygon.toGeoJSON() })
    }

    withinCircle (key, point, radius) {
      if (!(point instanceof GeoPoint)) throw bad(`withinCircle needs a BaaS.GeoPoint, got ${describe(point)}`)
      return this._add('withinCircle', key, { $center: { radius, coordinates: [point.longitude, point.latitude] } })
    }

    withinRegion (key, point, maxDistance, minDistance = 0) {
      if (!(point instanceof GeoPoint)) throw bad(`withinRegion needs a BaaS.GeoPoint, got ${describe(point)}`)
      const cond = { geometry: point.toGeoJSON(), min_distance: minDistance }
      if (maxDistance) cond.max_distance = maxDistance
      return this._add('withinRegion', key, { $nearsphere: cond })
    }

    hasKey (key, fieldName) {
      // The SDK throws here too, though not a proper HError (it calls
      // HError without new); this one is.
      if (typeof key !== 'string' || typeof fieldName !== 'string') {
        throw bad(`hasKey needs two strings (the object field and the key), got ${describe(key)} and ${describe(fieldName)}`)
      }
      return this._add('hasKey', key, { $has_key: fieldName })
    }

    // _add appends {key: cond} to the top-level $and, creating it, as the
    // SDK's _addQueryObject does (even beside an $or made by Query.or).
    _add (method, key, cond) {
      needName(method, key)
      if (!isArray(this.queryObject.$and)) this.queryObject.$and = []
      this.queryObject.$and.push({ [key]: cond })
      return this
    }

    _each (method, key, cond) {
      if (isArray(key)) {
        for (const k of key) needName(method, k)
        for (const k of key) this._add(method, k, { ...cond })
        return this
      }
      return this._add(method, key, cond)
    }
  }

  function combine (op, queries) {
    queries.forEach((q, i) => {
      if (!(q instanceof Query)) throw bad(`Query.${op.slice(1)} takes BaaS.Query objects, argument ${i + 1} is ${describe(q)}`)
    })
    const q = new Query()
    // The sub-queries are taken by reference, as in the SDK: setQuery
    // copies the whole tree when it is used.
    q.queryObject = { [op]: queries.map(x => x.queryObject) }
    return q
  }

  // ---- TableRecord ----

  const unsupportedMethod = name => () => {
    throw ownFrames(new HError(611, `unsupported function: ${name} is not provided by the emulator`))
  }

  class BaseRecord {
    constructor (recordID) {
      this._recordID = recordID
      this._recordValueInit()
    }

    _recordValueInit () {
      this._record = { $set: {}, $unset: {} }
    }

    // set(key, value) sets one field; set(object) replaces every field set
    // so far, as in the SDK. A field cannot be both set and unset.
    set (...args) {
      if (args.length === 1) {
        const obj = args[0]
        if (obj === null || typeof obj !== 'object' || isArray(obj)) {
          throw bad(`set(object) needs an object of fields, or call set(key, value); got ${describe(obj)}`)
        }
        const next = {}
        for (const key of objectKeys(obj)) {
          if (hasOwn(this._record.$unset, key)) throw bad(`set: field ${stringify(key)} is already unset on this record`)
          next[key] = setValue(obj[key])
        }
        this._record.$set = next
        return this
      }
      if (args.length === 2) {
        const [key, value] = args
        needName('set', key)
        if (hasOwn(this._record.$unset, key)) throw bad(`set: field ${stringify(key)} is already unset on this record`)
        this._record.$set[key] = setValue(value)
        return this
      }
      throw bad(`set takes (key, value) or (object), got ${args.length} arguments`)
    }

    unset (arg) {
      if (arg !== null && typeof arg === 'object' && !isArray(arg)) {
        const next = {}
        for (const key of objectKeys(arg)) {
          if (hasOwn(this._record.$set, key)) throw bad(`unset: field ${stringify(key)} is already set on this record`)
          next[key] = ''
        }
        this._record.$unset = next
        return this
      }
      if (typeof arg === 'string' && arg !== '') {
        if (hasOwn(this._record.$set, arg)) throw bad(`unset: field ${stringify(arg)} is already set on this record`)
        this._record.$unset[arg] = ''
        return this
      }
      throw bad(`unset needs a field name or an object of fields, got ${describe(arg)}`)
    }

    incrementBy (key, value) {
      needName('incrementBy', key)
      if (typeof value !== 'number' || !isFinite(value)) throw bad(`incrementBy('${key}') needs a number, got ${describe(value)}`)
      this._record.$set[key] = { $incr_by: value }
      return this
    }

    append (key, value) { return this._arrayOp('append', '$append', key, value) }
    uAppend (key, value) { return this._arrayOp('uAppend', '$append_unique', key, value) }
    remove (key, value) { return this._arrayOp('remove', '$remove', key, value) }

    _arrayOp (method, op, key, value) {
      needName(method, key)
      const list = isArray(value) ? value : [value]
      this._record.$set[key] = { [op]: list.map(geoToJSON) }
      return this
    }

    patchObject (key, value) {
      needName('patchObject', key)
      if (!isPlainObject(value)) throw bad(`patchObject('${key}') needs a plain object, got ${describe(value)}`)
      this._record.$set[key] = { $update: value }
      return this
    }

    pop (key) {
      needName('pop', key)
      this._record.$set[key] = { $pop: 1 }
      return this
    }

    shift (key) {
      needName('shift', key)
      this._record.$set[key] = { $pop: -1 }
      return this
    }
  }

  // setValue is the SDK's serialisation in set(): geo values become
  // GeoJSON and a record its id; in an array only geo values change.
  function setValue (v) {
    if (isArray(v)) return v.map(geoToJSON)
    return recordToID(geoToJSON(v))
  }

  class TableRecord extends BaseRecord {
    constructor (tableID, recordID, queryObject = {}) {
      super(recordID)
      this._tableID = tableID
      this._queryObject = queryObject
    }

    // save creates a record from the fields set (only $set is sent).
    save ({ expand = '' } = {}) {
      const body = toJSONText(this._record.$set)
      this._recordValueInit()
      const url = fillTemplate(API.CREATE_RECORD, [['tableID', this._tableID], ['expand', joinList(expand)]])
      return send('POST', url, body)
    }

    // update changes the record of getWithoutData(id), or every record
    // matched by getWithoutData(query), with {$set, $unset}.
    update ({ enableTrigger = true, withCount = false, expand = '' } = {}) {
      if (this._recordID !== null && this._recordID !== undefined) {
        const body = toJSONText(this._record)
        this._recordValueInit()
        const url = fillTemplate(API.UPDATE_RECORD, [
          ['tableID', this._tableID], ['recordID', this._recordID],
          ['enable_trigger', enableTrigger ? 1 : 0], ['expand', joinList(expand)]
        ])
        return send('PUT', url, body)
      }
      const q = this._queryObject
      if (!q || !hasOwn(q, 'where')) {
        // The SDK would send an update of every record in the table.
        throw bad('update() needs a record from getWithoutData(id) or getWithoutData(query); use save() to create one')
      }
      const body = toJSONText(this._record)
      this._recordValueInit()
      this._queryObject = {}
      const url = fillTemplate(API.RECORD_LIST_BULK, [
        ['tableID', this._tableID],
        ['where', stringify(q.where)],
        ['limit', limitWithTrigger(q.limit, enableTrigger)],
        ['offset', q.offset],
        ['enable_trigger', enableTrigger ? 1 : 0],
        ['return_total_count', withCount ? 1 : 0]
      ])
      return send('PUT', url, body)
    }
  }

  // ---- TableObject ----

  class TableObject {
    constructor (tableID) {
      if (!isID(tableID)) throw bad(`TableObject needs a table name or id, got ${describe(tableID)}`)
      this._tableID = tableID
      this._initQueryParams()
    }

    // The builder state applies to the next find/get/count/delete(query)/
    // getWithoutData(query) only: each of them resets it, as in the SDK.
    _initQueryParams () {
      this._queryObject = {}
      this._limit = null
      this._offset = 0
      this._orderBy = null
      this._keys = null
      this._expand = null
    }

    setQuery (query) {
      if (!(query instanceof Query)) throw bad(`setQuery needs a BaaS.Query, got ${describe(query)}`)
      this._queryObject = parse(stringify(query.queryObject)) // a deep copy, as the SDK's
      return this
    }

    select (keys) { this._keys = joinList(keys); return this }
    expand (keys) { this._expand = joinList(keys); return this }
    orderBy (keys) { this._orderBy = joinList(keys); return this }

    limit (n) {
      if (!isInteger(n)) throw bad(`limit needs an integer, got ${describe(n)}`)
      this._limit = n
      return this
    }

    offset (n) {
      if (!isInteger(n)) throw bad(`offset needs an integer, got ${describe(n)}`)
      this._offset = n
      return this
    }

    create () {
      return new TableRecord(this._tableID)
    }

    createMany (records, { enableTrigger = true } = {}) {
      if (!isArray(records)) throw bad(`createMany needs an array of records, got ${describe(records)}`)
      const data = records.map((r, i) => {
        if (r === null || typeof r !== 'object' || isArray(r)) throw bad(`createMany: item ${i} must be an object of fields, got ${describe(r)}`)
        const out = {}
        for (const key of objectKeys(r)) out[key] = recordToID(r[key])
        return out
      })
      const url = fillTemplate(API.CREATE_RECORD_LIST, [['tableID', this._tableID], ['enable_trigger', enableTrigger ? 1 : 0]])
      return send('POST', url, toJSONText(data))
    }

    get (recordID) {
      if (!isID(recordID)) throw bad(`get needs a record id, got ${describe(recordID)}`)
      const params = []
      if (this._expand) params.push(['expand', this._expand])
      if (this._keys) params.push(['keys', this._keys])
      this._initQueryParams()
      const url = fillTemplate(API.RECORD_DETAIL, [['tableID', this._tableID], ['recordID', recordID]])
      return send('GET', withQuery(url, params))
    }

    // _conditions is the SDK's _handleAllQueryConditions, in its order.
    _conditions () {
      const c = [['limit', this._limit === null ? QUERY_LIMIT_DEFAULT : this._limit], ['offset', this._offset]]
      if (this._orderBy) c.push(['order_by', this._orderBy])
      if (this._keys) c.push(['keys', this._keys])
      if (this._expand) c.push(['expand', this._expand])
      c.push(['where', stringify(this._queryObject)])
      return c
    }

    // withCount defaults to false, as in the JS SDK 3.x: the platform's
    // cloud-function docs disagree (reference §10.4), the SDK decides.
    find ({ withCount = false } = {}) {
      const params = this._conditions()
      this._initQueryParams()
      params.push(['return_total_count', withCount ? 1 : 0])
      const url = fillTemplate(API.QUERY_RECORD_LIST, [['tableID', this._tableID]])
      return send('GET', withQuery(url, params))
    }

    // count resolves to the number of records matching the query.
    count () {
      const callSite = new Error()
      return this.limit(1).find({ withCount: true }).then(res => {
        const meta = res.data && res.data.meta
        if (!meta || typeof meta.total_count !== 'number') {
          throw ownFrames(new HError(500, `count: the emulator's answer has no meta.total_count: ${clip(String(stringify(res.data)))}`), callSite)
        }
        return meta.total_count
      })
    }

    getWithoutData (arg) {
      if (isID(arg)) return new TableRecord(this._tableID, arg)
      if (arg instanceof Query) {
        const q = { limit: this._limit, offset: this._offset, where: parse(stringify(arg.queryObject)) }
        this._initQueryParams()
        return new TableRecord(this._tableID, null, q)
      }
      throw bad(`getWithoutData needs a record id or a BaaS.Query, got ${describe(arg)}`)
    }

    // delete(id) deletes one record (204); delete(query) every record the
    // query matches, within limit/offset. Both send the body {}: the SDK's
    // params left after its URL placeholders are {} (or {limit: undefined}),
    // which axios and wx.request send as JSON.
    delete (arg, { enableTrigger = true, withCount = false } = {}) {
      if (isID(arg)) {
        return send('DELETE', fillTemplate(API.RECORD_DETAIL, [['tableID', this._tableID], ['recordID', arg]]), '{}')
      }
      if (arg instanceof Query) {
        const url = fillTemplate(API.RECORD_LIST_BULK, [
          ['tableID', this._tableID],
          ['limit', limitWithTrigger(this._limit, enableTrigger)],
          ['offset', this._offset],
          ['where', stringify(arg.queryObject)],
          ['enable_trigger', enableTrigger ? 1 : 0],
          ['return_total_count', withCount ? 1 : 0]
        ])
        this._initQueryParams()
        return send('DELETE', url, '{}')
      }
      throw bad(`delete needs a record id or a BaaS.Query, got ${describe(arg)}`)
    }
  }
  // The platform's realtime and import/export calls are not emulated.
  for (const m of ['subscribe', 'exportData', 'importData', 'getExportTask', 'getExportTasks']) {
    TableObject.prototype[m] = unsupportedMethod(`BaaS.TableObject#${m}`)
  }

  function getServerDate () {
    return send('GET', API.SERVER_TIME)
  }

  function getAsyncJobResult (id) {
    if (!isID(id)) throw bad(`getAsyncJobResult needs an operation id, got ${describe(id)}`)
    return send('GET', fillTemplate(API.ASYNC_JOB, [['id', id]]))
  }

  BaaS.TableObject = TableObject
  BaaS.Query = Query
  BaaS.GeoPoint = GeoPoint
  BaaS.GeoPolygon = GeoPolygon
  BaaS.getServerDate = getServerDate
  BaaS.getAsyncJobResult = getAsyncJobResult
  return BaaS
}
