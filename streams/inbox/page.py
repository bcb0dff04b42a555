"""The crisis-room page of `lytter web`: HTML, CSS and JavaScript, all served by the project itself.

No external resources (the page must work offline and under ``script-src 'self'``): the chart is drawn
as inline SVG by the script. Every piece of mention or alert data is put on the page with
``textContent`` / ``createTextNode``, never as HTML.
"""

from __future__ import annotations

PAGE_HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Lytter · crisis room</title>
<link rel="stylesheet" href="/static/inbox.css">
<script src="/static/inbox.js" defer></script>
</head>
<body>
<header>
  <h1>Lytter · crisis room</h1>
  <label>brand <select id="brand"><option value="">all brands</option></select></label>
  <label>language <input id="lang" size="3" placeholder="any"></label>
  <label>source <input id="source" size="9" placeholder="any"></label>
  <label>you are <input id="me" size="10" placeholder="name"></label>
  <span id="updated" class="dim">loading…</span>
</header>
<div id="error" class="error" hidden></div>
<div id="notice" class="notice" hidden></div>
<main>
  <section id="queue-section">
    <h2>Reply queue <span id="queue-total" class="dim"></span></h2>
    <table id="queue">
      <thead><tr><th>priority</th><th>waited</th><th>brand</th><th>source</th><th>author</th><th>intent</th>
      <th>status</th><th>mention</th><th>actions</th></tr></thead>
      <tbody></tbody>
    </table>
    <p id="queue-empty" class="dim" hidden>Nobody is waiting for an answer.</p>
  </section>
  <aside>
    <section>
      <h2>Volume and sentiment <span id="chart-brand" class="dim"></span></h2>
      <div id="chart"></div>
      <p class="dim legend"><span class="key bar"></span> mentions per minute
        <span class="key line"></span> net sentiment (−1…+1)</p>
    </section>
    <section>
      <h2>Newest alerts</h2>
      <ol id="alerts"></ol>
      <p id="alerts-empty" class="dim" hidden>No alerts.</p>
    </section>
  </aside>
</main>
</body>
</html>
"""

LOGIN_HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Lytter · log in</title>
<link rel="stylesheet" href="/static/inbox.css">
<script src="/static/login.js" defer></script>
</head>
<body class="login">
<form id="login">
  <h1>Lytter · crisis room</h1>
  <label>Token <input id="token" type="password" autocomplete="current-password" autofocus></label>
  <button type="submit" id="login-button">Log in</button>
  <p id="login-error" class="error" hidden></p>
</form>
</body>
</html>
"""

UNAUTHORIZED_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Lytter · 401</title>
<link rel="stylesheet" href="/static/inbox.css"></head>
<body class="login"><p>This page needs the token (LYTTER_WEB_TOKEN). <a href="/login">Log in</a>.</p></body></html>
"""

CSS = """
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, sans-serif; background: #101418; color: #e6e9ec; }
header { display: flex; gap: 1.2em; align-items: center; flex-wrap: wrap; padding: .6em 1em; background: #1b2128; }
header h1 { font-size: 1.1em; margin: 0 1em 0 0; }
h2 { font-size: 1em; margin: .8em 0 .4em; }
input, select, button { font: inherit; background: #262e37; color: inherit; border: 1px solid #3a4550; border-radius: 3px; padding: 2px 6px; }
button { cursor: pointer; }
button:hover { background: #33404c; }
main { display: grid; grid-template-columns: minmax(0, 3fr) minmax(340px, 1fr); gap: 1em; padding: 0 1em 1em; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; vertical-align: top; padding: 4px 6px; border-bottom: 1px solid #2a323b; }
th { color: #9aa5b1; font-weight: normal; }
td.num { text-align: right; white-space: nowrap; }
.parts { font-size: .75em; }
td.text { min-width: 14em; max-width: 40em; white-space: pre-wrap; overflow-wrap: anywhere; }  /* anywhere alone let the column shrink to a few letters */
tr.late td.waited { color: #ff6b6b; font-weight: bold; }
td.actions { min-width: 11em; }  /* buttons wrap rather than spill out of the table */
td.author { max-width: 9em; overflow-wrap: anywhere; }  /* long handles (user@instance) wrap */
#queue-section { overflow-x: auto; }  /* a wide queue scrolls in its own column, never under the chart */
td.actions input { width: 7em; }
td.actions div { margin: 2px 0; }
.dim { color: #8792a0; }
.error { background: #5c1f24; color: #ffd7d9; padding: .5em 1em; margin: .5em 1em; border-radius: 3px; }
.notice { background: #3d3514; color: #fff1c2; padding: .5em 1em; margin: .5em 1em; border-radius: 3px; }
[hidden] { display: none !important; }
#alerts { padding-left: 1.2em; margin: 0; }
#alerts li { margin-bottom: .4em; }
.sev-critical, .sev-high { color: #ff6b6b; }
.sev-warning, .sev-medium { color: #f5c451; }
#chart svg { width: 100%; height: auto; background: #161b21; border-radius: 3px; }
.key { display: inline-block; width: 1em; height: .6em; margin: 0 .3em 0 .8em; }
.key.bar { background: #4f7cac; }
.key.line { border-top: 2px solid #f5c451; height: 0; }
body.login { display: flex; justify-content: center; align-items: center; min-height: 100vh; }
body.login form { background: #1b2128; padding: 2em; border-radius: 6px; display: grid; gap: 1em; min-width: 20em; }
"""

LOGIN_JS = """
"use strict";
document.getElementById("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const problem = document.getElementById("login-error");
  problem.hidden = true;
  try {
    const response = await fetch("/api/login", {method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({token: document.getElementById("token").value}), credentials: "same-origin"});
    if (response.ok) { window.location.assign("/"); return; }
    const body = await response.json().catch(() => ({}));
    problem.textContent = body.error || ("login failed: HTTP " + response.status);
  } catch (err) {
    problem.textContent = "the server does not answer: " + err;
  }
  problem.hidden = false;
});
"""

INBOX_JS = """
"use strict";
const POLL_MS = 5000;
const $ = (id) => document.getElementById(id);
let lastQueue = "";

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

function notice(message) {
  $("notice").textContent = message;
  $("notice").hidden = !message;
  if (message) setTimeout(() => { if ($("notice").textContent === message) $("notice").hidden = true; }, 8000);
}

async function api(path, options) {
  const response = await fetch(path, Object.assign({credentials: "same-origin"}, options || {}));
  let body = {};
  try { body = await response.json(); } catch (err) { body = {}; }
  if (response.status === 401) { window.location.assign("/login"); throw new Error("not logged in"); }
  if (!response.ok) { const error = new Error(body.error || ("HTTP " + response.status)); error.status = response.status; error.body = body; throw error; }
  return body;
}

function filters() {
  const params = new URLSearchParams();
  for (const name of ["brand", "lang", "source"]) { const value = $(name).value.trim(); if (value) params.set(name, value); }
  return params;
}

function waited(seconds) {
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return minutes + "m";
  const hours = Math.floor(minutes / 60);
  return hours < 48 ? hours + "h" + String(minutes % 60).padStart(2, "0") + "m" : Math.floor(hours / 24) + "d" + (hours % 24) + "h";
}

function button(label, action, item, inputsOf) {
  const node = el("button", label);
  node.type = "button";
  node.dataset.action = action;
  node.addEventListener("click", () => act(item, action, inputsOf ? inputsOf() : {}));
  return node;
}

function actionsCell(item) {
  const cell = el("td", null, "actions");
  const first = el("div");
  if (item.status === "snoozed" || item.status === "assigned") first.append(button("reopen", "reopen", item));
  first.append(button("handled", "handled", item), button("no reply", "no_reply_needed", item),
               button("snooze 2h", "snooze", item, () => ({"for": "2h"})));
  const who = el("input"); who.placeholder = "name"; who.dataset.input = "to";
  const assign = el("div"); assign.append(who, button("assign", "assign", item, () => ({to: who.value})));
  const text = el("input"); text.placeholder = "note"; text.dataset.input = "text";
  const note = el("div"); note.append(text, button("note", "note", item, () => ({text: text.value})));
  cell.append(first, assign, note);
  return cell;
}

function queueRow(item, targetSeconds) {
  const row = el("tr");
  row.dataset.id = item.id;
  row.dataset.version = item.version;
  if (item.waiting_s > targetSeconds) row.classList.add("late");
  const m = item.mention;
  const priority = el("td", item.priority.toFixed(1), "num");
  const p = item.parts;
  priority.title = "negativity " + p.negativity + " + influence " + p.influence + " + reach " + p.reach + " + waiting " + p.waiting;
  priority.append(el("div", "N " + p.negativity.toFixed(0) + " I " + p.influence.toFixed(0) + " R " + p.reach.toFixed(0) + " W " + p.waiting.toFixed(0), "dim parts"));
  const text = el("td", null, "text");
  if (m.title) text.append(el("strong", m.title), document.createTextNode("\\n"));
  text.append(document.createTextNode(m.text || ""));
  if (item.notes && item.notes.length) {
    const last = item.notes[item.notes.length - 1];
    text.append(el("div", "note by " + last.by + ": " + last.text, "dim"));
  }
  const status = item.status + (item.assignee ? " → " + item.assignee : "");
  row.append(priority, el("td", waited(item.waiting_s), "num waited"), el("td", (m.addressed_to || []).join(", ")),
             el("td", m.source), el("td", m.author || "-", "author"), el("td", m.intent || "-"), el("td", status, "status"), text, actionsCell(item));
  return row;
}

function typing() {
  const active = document.activeElement;
  return active && active.tagName === "INPUT" && $("queue").contains(active) && active.value !== "";
}

async function loadQueue() {
  const params = filters(); params.set("limit", "50");
  const data = await api("/api/queue?" + params.toString());
  const signature = JSON.stringify(data.items);
  $("queue-total").textContent = data.total + " waiting · reply target " + data.target_minutes + " min";
  if (signature === lastQueue || typing()) return;
  lastQueue = signature;
  const body = $("queue").tBodies[0];
  body.replaceChildren(...data.items.map((item) => queueRow(item, data.target_minutes * 60)));
  $("queue-empty").hidden = data.items.length > 0;
}

async function act(item, action, inputs) {
  const me = $("me").value.trim();
  const payload = Object.assign({action: action, version: item.version}, inputs);
  if (me) payload["as"] = me;
  try {
    const result = await api("/api/mentions/" + encodeURIComponent(item.id) + "/actions", {
      method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(payload)});
    notice(item.id + ": " + action.replace(/_/g, " ") + " done (" + result.status + ")");
  } catch (err) {
    notice(err.status === 409 ? "Not changed: " + err.message : "Not changed: " + err.message);
  }
  lastQueue = "";
  refresh();
}

async function loadAlerts() {
  const params = new URLSearchParams(); if ($("brand").value) params.set("brand", $("brand").value);
  const data = await api("/api/alerts?" + params.toString());
  const list = $("alerts");
  list.replaceChildren(...data.alerts.map((alert) => {
    const item = el("li");
    item.append(el("span", "[" + (alert.severity || "?") + "] ", "sev-" + (alert.severity || "none")),
                el("strong", alert.brand + ": "), document.createTextNode(alert.title || alert.rule || ""),
                el("div", (alert.status || "") + " · " + new Date(alert.updated_at).toLocaleString(), "dim"));
    return item;
  }));
  $("alerts-empty").hidden = data.alerts.length > 0;
}

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = String(text);
  return node;
}

function drawChart(data) {
  const width = 600, height = 260, left = 44, right = 40, top = 14, bottom = 30, font = 18;
  const root = svg("svg", {viewBox: "0 0 " + width + " " + height, role: "img", "aria-label": "mentions per minute and net sentiment"});
  const buckets = data.buckets;
  const maxCount = Math.max(1, ...buckets.map((b) => b.count));
  const plotW = width - left - right, plotH = height - top - bottom;
  const step = plotW / Math.max(1, buckets.length);
  root.append(svg("line", {x1: left, y1: top + plotH, x2: left + plotW, y2: top + plotH, stroke: "#3a4550"}));
  root.append(svg("text", {x: 2, y: top + font, fill: "#8792a0", "font-size": font}, maxCount));
  root.append(svg("text", {x: 2, y: top + plotH, fill: "#8792a0", "font-size": font}, 0));
  root.append(svg("text", {x: left + plotW + 4, y: top + font, fill: "#f5c451", "font-size": font}, "+1"));
  root.append(svg("text", {x: left + plotW + 4, y: top + plotH, fill: "#f5c451", "font-size": font}, "−1"));
  // the sentiment line breaks at minutes without mentions instead of bridging them
  const runs = [[]];
  buckets.forEach((b, i) => {
    const barH = plotH * b.count / maxCount;
    const bar = svg("rect", {x: left + i * step, y: top + plotH - barH, width: Math.max(1, step - 1), height: barH, fill: "#4f7cac"});
    bar.append(svg("title", {}, new Date(b.t).toLocaleTimeString() + ": " + b.count + " mentions" + (b.net === null ? "" : ", net " + b.net.toFixed(2))));
    root.append(bar);
    if (b.net === null) { if (runs[runs.length - 1].length) runs.push([]); return; }
    runs[runs.length - 1].push((left + i * step + step / 2).toFixed(1) + "," + (top + plotH * (1 - (b.net + 1) / 2)).toFixed(1));
  });
  for (const run of runs) {
    if (run.length === 1) { const [x, y] = run[0].split(","); root.append(svg("circle", {cx: x, cy: y, r: 2.5, fill: "#f5c451"})); }
    else if (run.length) root.append(svg("polyline", {points: run.join(" "), fill: "none", stroke: "#f5c451", "stroke-width": 1.5}));
  }
  if (buckets.length) {
    root.append(svg("text", {x: left, y: height - 6, fill: "#8792a0", "font-size": font}, new Date(buckets[0].t).toLocaleTimeString()));
    root.append(svg("text", {x: left + plotW - 110, y: height - 6, fill: "#8792a0", "font-size": font}, new Date(buckets[buckets.length - 1].t).toLocaleTimeString()));
  }
  $("chart").replaceChildren(root);
  $("chart-brand").textContent = (data.brand || "all brands") + " · last " + data.hours + " h";
}

async function loadChart() {
  const params = new URLSearchParams(); if ($("brand").value) params.set("brand", $("brand").value);
  drawChart(await api("/api/chart?" + params.toString()));
}

async function loadBrands() {
  const data = await api("/api/brands");
  const select = $("brand"), chosen = select.value;
  select.replaceChildren(el("option", "all brands"));
  select.options[0].value = "";
  for (const brand of data.brands) { const option = el("option", brand); option.value = brand; select.append(option); }
  select.value = data.brands.includes(chosen) ? chosen : "";
}

async function refresh() {
  try {
    await Promise.all([loadQueue(), loadAlerts(), loadChart()]);
    showError("");
    $("updated").textContent = "updated " + new Date().toLocaleTimeString();
  } catch (err) {
    if (err.message !== "not logged in") showError("Cannot load the data: " + err.message);
  }
}

document.addEventListener("DOMContentLoaded", async () => {
  $("me").value = localStorage.getItem("lytter.me") || "";
  $("me").addEventListener("change", () => localStorage.setItem("lytter.me", $("me").value.trim()));
  for (const id of ["brand", "lang", "source"]) $(id).addEventListener("change", () => { lastQueue = ""; refresh(); });
  try { await loadBrands(); } catch (err) { if (err.message !== "not logged in") showError("Cannot load the brands: " + err.message); }
  await refresh();
  setInterval(refresh, POLL_MS);
});
"""
