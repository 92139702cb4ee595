// A minimal WeChat mini-program runtime for the official SDK's
// mini-program build (minapp-sdk's lib/index.js) under Node: the `wx`
// functions it calls while initialising and for table requests. wx.request
// follows WeChat's documented data handling: for GET the data object is
// added to the query string (encodeURIComponent of key and value), for
// other methods it is sent as JSON; dataType 'json' parses the answer.
// XHR_TRACE=1 prints each exchange to stderr, to see what the SDK sent.
'use strict';
const http = require('node:http');

const store = new Map();
globalThis.window = globalThis; // the build's UMD wrapper reads window
// WeChat's base library provides regeneratorRuntime to the build's
// transpiled async functions; here the npm package regenerator-runtime,
// installed beside minapp-sdk, does (its path in MINAPP_REGENERATOR).
globalThis.regeneratorRuntime = require(process.env.MINAPP_REGENERATOR || 'regenerator-runtime');

globalThis.wx = {
  request ({ url, method = 'GET', data, header = {}, dataType = 'json', success, fail, complete }) {
    let body = null;
    if (method === 'GET') {
      if (data && typeof data === 'object') {
        const q = Object.keys(data).map((k) => encodeURIComponent(k) + '=' + encodeURIComponent(data[k])).join('&');
        if (q) url += (url.includes('?') ? '&' : '?') + q;
      }
    } else if (data !== undefined) {
      body = Buffer.from(typeof data === 'string' ? data : JSON.stringify(data), 'utf8');
    }
    const headers = { ...header };
    if (body) {
      headers['Content-Length'] = body.length;
      if (!Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) headers['Content-Type'] = 'application/json';
    }
    const req = http.request(new URL(url), { method, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        let text = Buffer.concat(chunks).toString('utf8');
        if (process.env.XHR_TRACE) process.stderr.write(`${method} ${url} ${body ?? ''} -> ${res.statusCode} ${text}\n`);
        let out = text;
        if (dataType === 'json') {
          try { out = JSON.parse(text); } catch (e) { /* WeChat leaves a non-JSON answer as text */ }
        }
        const r = { data: out, statusCode: res.statusCode, header: res.headers };
        if (success) success(r);
        if (complete) complete(r);
      });
    });
    req.on('error', (e) => {
      const r = { errMsg: 'request:fail ' + e.message };
      if (fail) fail(r);
      if (complete) complete(r);
    });
    if (body) req.write(body);
    req.end();
  },
  getStorageSync: (k) => (store.has(k) ? store.get(k) : ''),
  setStorageSync: (k, v) => { store.set(k, v); },
  getStorage: ({ key, success, fail }) => (store.has(key) ? success({ data: store.get(key) }) : fail && fail({})),
  setStorage: ({ key, data, success }) => { store.set(key, data); if (success) success({}); },
  getSystemInfoSync: () => ({ platform: 'devtools', SDKVersion: '3.0.0', system: 'Node', version: '8.0.0' }),
  getSystemInfo: ({ success }) => success({ platform: 'devtools', SDKVersion: '3.0.0', system: 'Node', version: '8.0.0' }),
  getNetworkType: ({ success }) => success({ networkType: 'wifi' }),
};
