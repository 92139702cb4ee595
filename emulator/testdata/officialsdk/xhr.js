// A minimal browser for the official SDK's web build (minapp-sdk's
// lib/web.js) under Node: `window`, `localStorage` and an asynchronous
// XMLHttpRequest over node:http, with only what axios's XHR adapter uses.
// The SDK itself is loaded unchanged.
// XHR_TRACE=1 prints each exchange to stderr, to see what the SDK sent.
'use strict';
const http = require('node:http');

class XMLHttpRequest {
  constructor() {
    this.readyState = 0;
    this.status = 0;
    this.statusText = '';
    this.responseText = '';
    this.response = '';
    this.responseType = '';
    this.timeout = 0;
    this.withCredentials = false;
    this._headers = {};
    this._resHeaders = {};
    this.onreadystatechange = null;
    this.onloadend = null;
    this.onerror = null;
    this.onabort = null;
    this.ontimeout = null;
  }
  open(method, url) {
    this._method = method;
    this._url = url;
    this.readyState = 1;
  }
  setRequestHeader(k, v) { this._headers[k] = v; }
  getAllResponseHeaders() {
    return Object.entries(this._resHeaders).map(([k, v]) => `${k}: ${v}`).join('\r\n');
  }
  getResponseHeader(k) { return this._resHeaders[k.toLowerCase()] ?? null; }
  abort() {
    if (this._req) this._req.destroy();
    if (this.onabort) this.onabort();
  }
  send(body) {
    const u = new URL(this._url);
    // As a browser does: the body's length is sent, never chunked.
    const payload = body == null ? null : Buffer.from(String(body), 'utf8');
    const headers = { ...this._headers };
    if (payload) headers['Content-Length'] = payload.length;
    const req = http.request(u, { method: this._method, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        this.status = res.statusCode;
        this.statusText = res.statusMessage;
        this._resHeaders = res.headers;
        this.responseText = Buffer.concat(chunks).toString('utf8');
        this.response = this.responseText;
        this.responseURL = this._url;
        this.readyState = 4;
        if (process.env.XHR_TRACE) process.stderr.write(`${this._method} ${this._url} ${body ?? ''} -> ${this.status} ${this.responseText}\n`);
        if (this.onreadystatechange) this.onreadystatechange();
        if (this.onloadend) this.onloadend();
      });
    });
    this._req = req;
    req.on('error', () => { if (this.onerror) this.onerror(); });
    if (this.timeout) req.setTimeout(this.timeout, () => { req.destroy(); if (this.ontimeout) this.ontimeout(); });
    if (payload) req.write(payload);
    req.end();
  }
}

const store = new Map();
const origin = process.env.PAGE_ORIGIN || 'http://localhost:5173';
globalThis.window = globalThis;
globalThis.XMLHttpRequest = XMLHttpRequest;
globalThis.localStorage = {
  getItem: (k) => (store.has(k) ? store.get(k) : null),
  setItem: (k, v) => { store.set(k, String(v)); },
  removeItem: (k) => { store.delete(k); },
};
globalThis.location = new URL(origin + '/');
globalThis.addEventListener = () => {};
globalThis.removeEventListener = () => {};
