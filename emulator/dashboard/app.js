// The emulator's dashboard: the functions with an invoke form, the jobs
// kept live by server-sent events (api/events), and one job's details and
// log. Plain DOM, no library; text goes in with textContent only, so that
// nothing a function logs can become markup.
//
// Endpoints (emulator/dashboard.go): api/info, api/functions,
// api/jobs?limit=N, api/jobs/ID, api/events. Invoking goes through the
// SDK's endpoint (info.invoke_path) with the client id.
//
// The Tables tab (dashboard_tables.go): api/tables (names and counts),
// api/tables/NAME?where=JSON&limit=N&offset=N (a page, newest first),
// api/tables/NAME/ID (one record, indented, numbers exact), each with
// &env=ID for an environment's tables; api/envs (the environments).
// The stream's "table" events ({env, table, op, count}) keep it live.
"use strict";

const maxJobs = 200; // rows kept on the page; older ones drop off

const jobs = new Map(); // id → job, as api/jobs returns them
let info = null; // {client_id, invoke_path}
let selected = 0; // the job shown below the table
let selectedLog = []; // its log lines, by index
let follow = ""; // after an invoke from the form: show that function's next job

const $ = (id) => document.getElementById(id);

async function api(path) {
  const r = await fetch(path, { cache: "no-store" });
  const body = await r.json();
  if (!r.ok) throw new Error(body.error_msg || r.statusText);
  return body;
}

function setConn(text, live) {
  $("conn").textContent = text;
  $("conn").className = live ? "conn live" : "conn";
}

function time(t) {
  if (!t) return "-";
  const d = new Date(t);
  return d.toLocaleTimeString(undefined, { hour12: false }) + "." + String(d.getMilliseconds()).padStart(3, "0");
}

function runTime(j) {
  if (!j.started_at || !j.finished_at) return "-";
  return (new Date(j.finished_at) - new Date(j.started_at)) + " ms";
}

function cell(tr, text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  tr.appendChild(td);
}

// Functions and the invoke form.

async function loadFunctions() {
  const fns = await api("api/functions");
  const select = $("fn");
  const keep = select.value;
  const list = $("fn-list");
  select.replaceChildren();
  list.replaceChildren();
  for (const f of fns) {
    select.appendChild(new Option(f.name, f.name));
    const li = document.createElement("li");
    li.textContent = f.name;
    if (f.remark) {
      const small = document.createElement("small");
      small.textContent = f.remark;
      li.appendChild(small);
    }
    li.onclick = () => { select.value = f.name; };
    list.appendChild(li);
  }
  if (fns.some((f) => f.name === keep)) select.value = keep;
}

function showAnswer(text, isError) {
  const pre = $("answer");
  pre.hidden = false;
  pre.textContent = text;
  pre.className = isError ? "answer error" : "answer";
}

async function invoke(e) {
  e.preventDefault();
  const name = $("fn").value;
  let data;
  try {
    data = JSON.parse($("params").value.trim() || "{}");
  } catch (err) {
    showAnswer("Params are not valid JSON, nothing was sent: " + err.message, true);
    return;
  }
  const sync = e.target.elements.mode.value === "sync";
  showAnswer(sync ? "running…" : "queuing…", false);
  follow = name;
  try {
    const r = await fetch(info.invoke_path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Hydrogen-Client-ID": info.client_id },
      body: JSON.stringify({ function_name: name, data: data, sync: sync }),
    });
    const text = await r.text();
    let shown = text;
    try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch (_) { /* not JSON: as it came */ }
    const failed = !r.ok || (sync && JSON.parse(text).code !== 0);
    showAnswer((r.ok ? "" : r.status + " ") + shown, failed);
  } catch (err) {
    showAnswer("The call failed: " + err.message, true);
  }
}

// The jobs table.

function renderJobs() {
  const rows = [];
  const ids = [...jobs.keys()].sort((a, b) => b - a);
  for (const id of ids.slice(maxJobs)) jobs.delete(id);
  for (const id of ids.slice(0, maxJobs)) {
    const j = jobs.get(id);
    const tr = document.createElement("tr");
    tr.dataset.id = id;
    if (id === selected) tr.className = "selected";
    cell(tr, String(id));
    cell(tr, j.function);
    cell(tr, j.status, "status-" + j.status);
    cell(tr, j.source);
    cell(tr, j.sync ? "sync" : "async");
    cell(tr, time(j.created_at));
    cell(tr, runTime(j));
    tr.onclick = () => showJob(id);
    rows.push(tr);
  }
  $("jobs").tBodies[0].replaceChildren(...rows);
  $("no-jobs").hidden = rows.length > 0;
}

async function loadJobs() {
  const list = await api("api/jobs?limit=" + maxJobs);
  jobs.clear();
  for (const j of list) jobs.set(j.id, j);
  renderJobs();
  if (selected) showJob(selected);
}

function jobChanged(j) {
  const isNew = !jobs.has(j.id);
  jobs.set(j.id, j);
  renderJobs();
  if (isNew && follow === j.function) {
    follow = "";
    showJob(j.id);
  } else if (j.id === selected && j.result_cut) {
    // The stream carries a large result's first 64 KiB only: read it whole.
    showJob(j.id);
  } else if (j.id === selected) {
    renderJob(j);
  }
}

// One job's details and log.

async function showJob(id) {
  if (selected !== id) selectedLog = [];
  selected = id;
  renderJobs();
  let j;
  try {
    j = await api("api/jobs/" + id);
  } catch (err) {
    $("job-log").textContent = err.message;
    return;
  }
  if (selected !== id) return; // another job was picked meanwhile
  // Lines that came over the stream while this was loading stay.
  const log = (j.log || []).slice();
  selectedLog.forEach((line, n) => { if (n >= log.length) log[n] = line; });
  selectedLog = log;
  renderJob(j);
}

function renderJob(j) {
  $("job").hidden = false;
  $("job-id").textContent = "#" + j.id;
  $("job-function").textContent = j.function;
  $("job-status").textContent = j.status;
  $("job-status").className = "status-" + j.status;
  $("job-source").textContent = j.source + (j.sync ? ", sync" : ", async");
  $("job-created").textContent = time(j.created_at);
  $("job-started").textContent = time(j.started_at);
  $("job-finished").textContent = time(j.finished_at) + (j.finished_at ? " (" + runTime(j) + ")" : "");
  $("job-mem").textContent = j.mem_usage ? Math.round(j.mem_usage / 1024) + " KiB" : "-";
  $("job-trace").textContent = j.trace_id || "-";
  $("job-result").textContent = j.result ? JSON.stringify(j.result, null, 2) : "(not ended yet)";
  renderLog();
}

function renderLog() {
  $("job-log").textContent = selectedLog.filter((l) => l !== undefined).join("\n") || "(no log lines)";
}

function logLine(ev) {
  if (ev.id !== selected) return;
  selectedLog[ev.n] = ev.line;
  renderLog();
}

// The stream. EventSource reconnects by itself when a stream ends (the
// emulator dropped a slow page with "lost", or restarted); each (re)open
// reloads the lists, so that nothing missed meanwhile stays missing.

function connect() {
  const es = new EventSource("api/events");
  es.onopen = () => {
    setConn("live", true);
    loadFunctions().catch((err) => setConn(err.message, false));
    loadJobs().catch((err) => setConn(err.message, false));
    // Writes while the stream was down were missed: read the tables again.
    if (!$("tables-tab").hidden) tablesDue(true);
  };
  es.onerror = () => {
    if (es.readyState === EventSource.CLOSED) {
      // Refused (not 200): EventSource gives up; try again later.
      setConn("disconnected, retrying…", false);
      setTimeout(connect, 5000);
    } else {
      setConn("reconnecting…", false);
    }
  };
  es.addEventListener("job", (e) => jobChanged(JSON.parse(e.data)));
  es.addEventListener("log", (e) => logLine(JSON.parse(e.data)));
  es.addEventListener("table", (e) => tableChanged(JSON.parse(e.data)));
}

// The Tables tab. The where goes to the emulator as typed: it checks it
// as the data API does, and a bad one is said on the page while the rows
// shown stay those of the last good query.

const pageSize = 20;
const systemKeys = new Set(["id", "_id", "created_at", "updated_at", "created_by", "read_perm", "write_perm"]);
const maxColumns = 8; // fields shown as columns; the record view shows all
const browsing = { table: "", where: "", offset: 0, total: 0 }; // the page shown
let env = ""; // the environment browsed; "" for the tables of calls that name none

// withEnv adds the environment browsed to an endpoint's query.
function withEnv(q) {
  if (env) q.set("env", env);
  const s = q.toString();
  return s ? "?" + s : "";
}

async function loadEnvs() {
  const envs = await api("api/envs");
  if (!envs.includes(env)) env = "";
  const select = $("env");
  select.replaceChildren(new Option("(none)", ""), ...envs.map((id) => new Option(id, id)));
  select.value = env;
  $("env-label").hidden = envs.length === 0;
}

function pickEnv() {
  env = $("env").value;
  closeTable();
  loadTables().catch((err) => setConn(err.message, false));
}

// closeTable empties the records pane: no table is open.
function closeTable() {
  browsing.table = "";
  $("where-button").disabled = true;
  $("record").hidden = true;
  $("records-error").hidden = true;
  $("records").tHead.replaceChildren();
  $("records").tBodies[0].replaceChildren();
  $("records-table").textContent = "";
  $("records-empty").textContent = "Pick a table.";
  $("records-empty").hidden = false;
  $("page-info").textContent = "";
  $("newer").disabled = $("older").disabled = true;
}

async function loadTables() {
  await loadEnvs();
  const tables = await api("api/tables" + withEnv(new URLSearchParams()));
  const items = tables.map((tb) => {
    const li = document.createElement("li");
    li.dataset.name = tb.name;
    li.textContent = tb.name;
    const small = document.createElement("small");
    small.textContent = tb.count + (tb.count === 1 ? " record" : " records");
    li.appendChild(small);
    if (tb.name === browsing.table) li.className = "selected";
    li.onclick = () => openTable(tb.name);
    return li;
  });
  $("table-list").replaceChildren(...items);
  $("no-tables").hidden = items.length > 0;
}

function openTable(name) {
  $("where").value = "";
  $("record").hidden = true;
  $("records-error").hidden = true;
  browsing.table = name;
  for (const li of $("table-list").children) li.className = li.dataset.name === name ? "selected" : "";
  $("where-button").disabled = false;
  loadRecords("", 0);
}

// loadRecords shows the page of the table at offset that where matches;
// on an error it says so and leaves the page shown as it was.
async function loadRecords(where, offset) {
  const table = browsing.table;
  const q = new URLSearchParams({ where: where, limit: String(pageSize), offset: String(offset) });
  let page;
  try {
    page = await api("api/tables/" + encodeURIComponent(table) + withEnv(q));
  } catch (err) {
    $("records-error").textContent = err.message;
    $("records-error").hidden = false;
    return;
  }
  if (table !== browsing.table) return; // another table was picked meanwhile
  $("records-error").hidden = true;
  Object.assign(browsing, { where: where, offset: offset, total: page.total });
  renderRecords(page);
}

function shortJSON(v) {
  const s = typeof v === "string" ? v : JSON.stringify(v);
  return s.length > 60 ? s.slice(0, 59) + "…" : s;
}

function renderRecords(page) {
  const fields = [];
  for (const rec of page.objects) {
    for (const k of Object.keys(rec)) {
      if (!systemKeys.has(k) && !fields.includes(k) && fields.length < maxColumns) fields.push(k);
    }
  }
  const head = document.createElement("tr");
  for (const name of ["id", "created_at", ...fields]) {
    const th = document.createElement("th");
    th.textContent = name;
    head.appendChild(th);
  }
  $("records").tHead.replaceChildren(head);
  const rows = page.objects.map((rec) => {
    const tr = document.createElement("tr");
    tr.dataset.id = rec.id;
    cell(tr, rec.id);
    cell(tr, rec.created_at ? new Date(rec.created_at * 1000).toLocaleString(undefined, { hour12: false }) : "-");
    for (const f of fields) cell(tr, f in rec ? shortJSON(rec[f]) : "");
    tr.onclick = () => showRecord(page.table, rec.id);
    if (!$("record").hidden && $("record-id").textContent === rec.id) tr.className = "selected"; // kept through a live refresh
    return tr;
  });
  $("records").tBodies[0].replaceChildren(...rows);
  $("records-table").textContent = page.table + (page.where ? " where " + page.where : "");
  const empty = $("records-empty");
  empty.hidden = rows.length > 0;
  empty.textContent = page.where ? "No record matches." : "The table is empty.";
  $("page-info").textContent = rows.length ? (page.offset + 1) + "–" + (page.offset + rows.length) + " of " + page.total : "";
  $("newer").disabled = page.offset === 0;
  $("older").disabled = page.offset + rows.length >= page.total;
}

async function showRecord(table, id) {
  for (const tr of $("records").tBodies[0].rows) tr.className = tr.dataset.id === id ? "selected" : "";
  $("record").hidden = false;
  $("record-id").textContent = id;
  // As text: JSON.parse would round integers past 2^53.
  const url = "api/tables/" + encodeURIComponent(table) + "/" + encodeURIComponent(id) + withEnv(new URLSearchParams());
  const r = await fetch(url, { cache: "no-store" });
  const text = await r.text();
  if (!r.ok) {
    let msg = text;
    try { msg = JSON.parse(text).error_msg; } catch (_) { /* as it came */ }
    $("record-json").textContent = r.status + " " + msg;
    return;
  }
  $("record-json").textContent = text;
}

// Live: a "table" event says a table of some environment changed. The
// list (counts) and the open table's page are read again, at most once
// per tableRefreshMs and never two reads at once, however many events
// come: a bulk import of thousands of records costs a few reads. The
// record shown below stays as it was read (click it again for the new).

const tableRefreshMs = 300;
const due = { list: false, records: false, busy: false };

function tableChanged(ev) {
  if ($("tables-tab").hidden) return; // showTab reads them when shown
  const here = ev.env === env;
  if (!here && [...$("env").options].some((o) => o.value === ev.env)) return; // another environment's table
  if (here && ev.table === browsing.table && ev.op === "drop") {
    closeTable();
  }
  tablesDue(here && ev.table === browsing.table);
}

// tablesDue asks for the list, and the open table's page when records is
// true, to be read again soon.
function tablesDue(records) {
  due.list = true;
  due.records = due.records || records;
  if (due.busy) return; // the running round calls again when done
  due.busy = true;
  setTimeout(async () => {
    const records = due.records && browsing.table !== "";
    due.list = due.records = false;
    await Promise.all([
      loadTables().catch((err) => setConn(err.message, false)),
      records ? loadRecords(browsing.where, browsing.offset) : null,
    ]);
    due.busy = false;
    if (due.list) tablesDue(due.records);
  }, tableRefreshMs);
}

function refreshTables() {
  loadTables().catch((err) => setConn(err.message, false));
  if (browsing.table) loadRecords(browsing.where, browsing.offset);
}

// The tabs: #/ and #/tables, so that a reload stays on the tab.
function showTab() {
  const tables = location.hash === "#/tables";
  $("functions-tab").hidden = tables;
  $("tables-tab").hidden = !tables;
  $("tab-functions").className = tables ? "tab" : "tab current";
  $("tab-tables").className = tables ? "tab current" : "tab";
  if (tables) refreshTables();
}

async function start() {
  $("invoke").onsubmit = invoke;
  $("where-form").onsubmit = (e) => {
    e.preventDefault();
    loadRecords($("where").value.trim(), 0);
  };
  $("newer").onclick = () => loadRecords(browsing.where, Math.max(0, browsing.offset - pageSize));
  $("older").onclick = () => loadRecords(browsing.where, browsing.offset + pageSize);
  $("tables-refresh").onclick = refreshTables;
  $("env").onchange = pickEnv;
  window.addEventListener("hashchange", showTab);
  showTab();
  // Back from the editor: a function may have been added or removed.
  window.addEventListener("focus", () => loadFunctions().catch(() => {}));
  try {
    info = await api("api/info");
  } catch (err) {
    setConn(err.message, false);
    return;
  }
  connect();
}

start();
