// The emulator's dashboard: the functions with an invoke form, the jobs
// kept live by server-sent events (api/events), and one job's details and
// log. Plain DOM, no library; text goes in with textContent only, so that
// nothing a function logs can become markup.
//
// Endpoints (emulator/dashboard.go): api/info, api/functions,
// api/jobs?limit=N, api/jobs/ID, api/events. Invoking goes through the
// SDK's endpoint (info.invoke_path) with the client id.
//
// TODO(tables), see dashboard.go: a tab that lists api/tables and
// browses api/tables/NAME?where=JSON, beside the functions and jobs.
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
}

async function start() {
  $("invoke").onsubmit = invoke;
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
