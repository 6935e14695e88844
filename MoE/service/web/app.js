// The page over /v1/sql: ask, watch the experts work, read the checked SQL and its rows, chart them,
// follow up, and say whether the answer was right. Every piece of model text and every database value
// is put on the page as text (textContent), never as markup.
"use strict";

const PAGE_ROWS = 25;
const SQL_KEYWORDS = new Set(("select from where group by order having limit offset join inner left right full outer " +
  "cross on as and or not in is null like ilike between case when then else end distinct count sum avg min max " +
  "union all except intersect with over partition asc desc cast date interval extract exists true false").split(" "));

const state = { conversationId: null, busy: false, apiKey: sessionStorage.getItem("apiKey") || "" };

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function headers() {
  const h = { "Content-Type": "application/json" };
  if (state.apiKey) h["Authorization"] = "Bearer " + state.apiKey;
  return h;
}

async function api(path, body) {
  const response = await fetch(path, body === undefined ? { headers: headers() } :
    { method: "POST", headers: headers(), body: JSON.stringify(body) });
  if (response.status === 401) document.getElementById("key-box").hidden = false;
  return response;
}

async function errorMessage(response) {
  try { return (await response.json()).error.message; } catch (e) { return response.status + " " + response.statusText; }
}

// ---- start-up: who answers, and the schema the experts see ----
async function loadStatus() {
  const status = document.getElementById("status");
  const response = await api("/healthz");
  if (!response.ok) { status.textContent = await errorMessage(response); return; }
  const h = await response.json();
  status.textContent = `${h.model} on ${h.dialect}, ${h.tables} tables`;
  const schema = await api("/v1/sql/schema");
  if (schema.ok) showSchema(await schema.json());
}

function showSchema(catalog) {
  const box = document.getElementById("schema");
  box.textContent = "";
  box.classList.remove("muted");
  for (const table of catalog.tables) {
    const details = el("details", "schema-table");
    const summary = el("summary", null, table.name);
    if (table.comment) summary.title = table.comment;
    details.append(summary);
    const list = el("ul");
    for (const column of table.columns) {
      const item = el("li", null, `${column.name} ${column.type}`);
      if (column.comment) item.title = column.comment;
      list.append(item);
    }
    details.append(list);
    box.append(details);
  }
}

// ---- asking: a streamed answer, stage by stage ----
async function ask(question, extraContext) {
  const turn = newTurn(question);
  setBusy(true);
  try {
    const response = await api("/v1/sql/ask", { question, extra_context: extraContext || null, execute: true,
                                                 conversation_id: state.conversationId, stream: true });
    if (!response.ok) { failTurn(turn, await errorMessage(response)); return; }
    await readEvents(response, (kind, data) => onEvent(turn, kind, data));
  } catch (e) {
    failTurn(turn, "the server could not be reached: " + e.message);
  } finally {
    setBusy(false);
  }
}

async function readEvents(response, handle) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let kind = "message", data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) kind = line.slice(7);
        else if (line.startsWith("data: ")) data += line.slice(6);
      }
      handle(kind, data ? JSON.parse(data) : {});
    }
  }
}

function onEvent(turn, kind, data) {
  if (kind === "queued") {
    state.conversationId = data.conversation_id;
    if (data.ahead > 0) stage(turn, `waiting: ${data.ahead} question(s) ahead`, "running");
  } else if (kind === "route") {
    finishRunning(turn);
    stage(turn, `router: ${data.experts.join(" -> ")} (${data.complexity}); schema: ${data.schema}`, "done");
  } else if (kind === "stage") {
    finishRunning(turn);
    stage(turn, data.name, "running");
  } else if (kind === "expert") {
    finishRunning(turn, label => `${label || data.name} (${data.seconds.toFixed(1)} s): ${summarise(data)}`);
  } else if (kind === "result") {
    finishRunning(turn);
    for (const reason of data.repair_reasons || []) stage(turn, "repair: " + reason, "done");
    if (data.checks) {
      const failed = data.checks.issues.length ? `; failed: ${data.checks.issues.join("; ")}` : "";
      stage(turn, `checks: ${data.checks.passed.join(", ")} passed${failed}`, "done");
    }
    showAnswer(turn, data);
  } else if (kind === "error") {
    finishRunning(turn);
    failTurn(turn, data.error.message);
  }
}

function summarise(expert) {
  const out = expert.output || {};
  const short = text => text.length > 140 ? text.slice(0, 139) + "\u2026" : text;
  if (out.sql) return short(out.sql.replace(/\s+/g, " "));
  if (out.verdict) return out.verdict === "keep" ? "keep the SQL" : "revise the SQL";
  if (out.choice) return `candidate ${out.choice}`;
  return short(Object.entries(out).filter(([, v]) => v && typeof v !== "object").map(([k, v]) => `${k}: ${v}`).join("; "));
}

function stage(turn, text, status) {
  const item = el("li", status, text);
  turn.querySelector(".stages").append(item);
  return item;
}

function finishRunning(turn, describe) {   // describe(stage name) -> what the finished stage says
  for (const item of turn.querySelectorAll(".stages li.running")) {
    item.className = "done";
    if (describe) item.textContent = describe(item.textContent);
  }
}

function newTurn(question) {
  const turn = document.getElementById("turn-template").content.firstElementChild.cloneNode(true);
  const q = turn.querySelector(".question");
  if (state.conversationId) q.append(el("span", "follow-up", "follow-up:"));
  q.append(document.createTextNode(question));
  document.getElementById("thread").append(turn);
  turn.scrollIntoView({ behavior: "smooth", block: "end" });
  return turn;
}

function failTurn(turn, message) {
  const answer = turn.querySelector(".answer");
  answer.hidden = false;
  answer.querySelector(".confidence").replaceChildren(el("span", "failed", "Not answered: " + message));
  answer.querySelector(".feedback").hidden = true;
}

// ---- the answer ----
function showAnswer(turn, result) {
  const answer = turn.querySelector(".answer");
  answer.hidden = false;
  if (result.history && result.history.length) {
    const history = turn.querySelector(".history");
    history.hidden = false;
    history.textContent = "asked as a follow-up to: " + result.history.join(" / ");
  }
  const confidence = answer.querySelector(".confidence");
  const level = result.confidence ? result.confidence.level : "none";
  confidence.append(el("span", "badge " + level, "confidence: " + level));
  confidence.append(document.createTextNode(result.confidence ? result.confidence.reasons.join("; ") : ""));
  if (result.status !== "ok") confidence.prepend(el("div", "failed", "FAILED"));
  highlightSql(answer.querySelector(".sql"), result.sql || "(no SQL)");
  showChecks(answer.querySelector(".checks"), result.checks, result.rows !== null);
  answer.querySelector(".explanation").textContent = result.explanation;
  if (result.rows) {
    showRows(answer.querySelector(".rows"), result.rows);
    drawChart(answer.querySelector(".chart"), result.rows);
  }
  wireFeedback(turn, result);
  document.getElementById("new-conversation").hidden = false;
  document.getElementById("ask").textContent = "Ask a follow-up";
}

function highlightSql(box, sql) {
  box.textContent = "";
  const pattern = /(--[^\n]*|'(?:[^']|'')*'|"(?:[^"]|"")*"|\b\d+(?:\.\d+)?\b|\b[A-Za-z_][A-Za-z0-9_]*\b|\s+|.)/g;
  for (const [token] of sql.matchAll(pattern)) {
    let kind = null;
    if (token.startsWith("--")) kind = "com";
    else if (token.startsWith("'")) kind = "str";
    else if (/^\d/.test(token)) kind = "num";
    else if (SQL_KEYWORDS.has(token.toLowerCase())) kind = "kw";
    box.append(kind ? el("span", kind, token) : document.createTextNode(token));
  }
}

function showChecks(box, checks, ran) {
  box.textContent = "";
  if (!checks) return;
  box.append(el("span", null, "Checks: "));
  for (const name of checks.passed) box.append(el("span", "pass", `\u2713 ${name} `));
  for (const issue of checks.issues) box.append(el("div", "issue", "\u2717 " + issue));
  for (const warning of checks.warnings || []) box.append(el("div", "warning", "! " + warning));
  box.append(el("div", "muted", ran ? "Safe: the SQL passed the read-only guard and ran in a read-only session." :
                                      "Nothing was run: the SQL did not pass every check."));
}

function showRows(box, rows) {
  box.textContent = "";
  let page = 0;
  const pages = Math.max(1, Math.ceil(rows.rows.length / PAGE_ROWS));
  const table = el("table");
  const pager = el("div", "pager");
  const render = () => {
    table.textContent = "";
    const head = el("tr");
    for (const column of rows.columns) head.append(el("th", null, column));
    table.append(head);
    for (const row of rows.rows.slice(page * PAGE_ROWS, (page + 1) * PAGE_ROWS)) {
      const tr = el("tr");
      for (const value of row) tr.append(el("td", isNumeric(value) ? "num" : null, value === null ? "NULL" : value));
      table.append(tr);
    }
    pager.querySelector(".page").textContent = `rows ${page * PAGE_ROWS + 1}-${Math.min(rows.rows.length, (page + 1) * PAGE_ROWS)} ` +
      `of ${rows.rows.length}${rows.truncated ? " (truncated)" : ""}`;
    pager.querySelector(".prev").disabled = page === 0;
    pager.querySelector(".next").disabled = page >= pages - 1;
  };
  const button = (cls, label, step) => {
    const b = el("button", cls, label);
    b.type = "button";
    b.addEventListener("click", () => { page += step; render(); });
    return b;
  };
  const download = el("button", "download", "Download CSV");
  download.type = "button";
  download.addEventListener("click", () => downloadCsv(rows));
  pager.append(button("prev", "\u2190", -1), el("span", "page"), button("next", "\u2192", 1), download);
  box.append(table, pager);
  render();
}

function isNumeric(value) {   // numbers, and the decimals the server sends as text
  return typeof value === "number" || (typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value));
}

function downloadCsv(rows) {
  const cell = v => {
    const s = v === null ? "" : String(v);
    return /[",\n\r]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  };
  const text = [rows.columns, ...rows.rows].map(r => r.map(cell).join(",")).join("\r\n") + "\r\n";
  const link = el("a");
  link.href = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
  link.download = "result.csv";
  document.body.append(link);
  link.click();
  link.remove();
}

// ---- charts: a date or ordered column and measures -> lines; a category and measures -> bars ----
function chartFor(rows) {
  const { columns, rows: data } = rows;
  if (columns.length < 2 || data.length < 2) return null;
  const values = i => data.map(r => r[i]);
  const isNumber = v => typeof v === "number" || (typeof v === "string" && v.trim() !== "" && !isNaN(Number(v)));
  const numeric = i => values(i).every(v => v === null || isNumber(v));
  const dateLike = i => values(i).every(v => v !== null && /^\d{4}-\d{2}(-\d{2})?([ T][\d:.]+)?$/.test(String(v)));
  const timeName = i => /(^|_)(date|day|week|month|quarter|year|time|period)s?($|_)/i.test(columns[i]);
  let x = columns.findIndex((_, i) => dateLike(i) || (timeName(i) && values(i).every(v => v !== null)));
  let type = "line";
  if (x < 0) {
    x = columns.findIndex((_, i) => !numeric(i));
    type = "bar";
    if (x < 0 || data.length > 60) return null;
  }
  const measures = columns.map((_, i) => i).filter(i => i !== x && numeric(i) && !/(^|_)id$/i.test(columns[i])).slice(0, 4);
  if (!measures.length) return null;
  let order = data.map((_, k) => k);
  if (type === "line") {   // a line follows its x, whatever order the rows came in
    const key = v => isNumber(v) ? Number(v) : String(v);
    order.sort((a, b) => key(data[a][x]) < key(data[b][x]) ? -1 : key(data[a][x]) > key(data[b][x]) ? 1 : 0);
  }
  const xs = order.map(k => data[k][x] === null ? "NULL" : String(data[k][x]));
  return { type, x, xs, series: measures.map(i => ({ name: columns[i], ys: order.map(k => data[k][i] === null ? null : Number(data[k][i])) })) };
}

function drawChart(box, rows) {
  const spec = chartFor(rows);
  if (!spec || !window.Plotly) return;
  const traces = spec.series.map(s => spec.type === "line" ?
    { type: "scatter", mode: "lines+markers", name: s.name, x: spec.xs, y: s.ys } :
    { type: "bar", name: s.name, x: spec.xs, y: s.ys });
  const layout = { height: 320, margin: { l: 60, r: 20, t: 10, b: 70 }, showlegend: traces.length > 1,
                   legend: { orientation: "h", y: 1.12 },
                   xaxis: { title: { text: rows.columns[spec.x] }, type: spec.type === "line" ? "-" : "category" },
                   yaxis: { title: { text: traces.length === 1 ? traces[0].name : "" } } };
  box.dataset.chart = spec.type;
  window.Plotly.newPlot(box, traces, layout, { displaylogo: false, responsive: true });
}

// ---- feedback: right, wrong, or corrected ----
function wireFeedback(turn, result) {
  const note = turn.querySelector(".feedback-note");
  const correction = turn.querySelector(".correction");
  const send = async (verdict, correctedSql) => {
    note.textContent = "sending...";
    const response = await api("/v1/sql/feedback", { question: result.question, sql: result.sql || "", verdict,
                                                      corrected_sql: correctedSql || null });
    if (!response.ok) { note.textContent = await errorMessage(response); return; }
    const saved = await response.json();
    note.textContent = saved.stored === "examples" ? "Thanks: kept as an example for the next questions." :
      saved.stored === "duplicate" ? "Already an example." : "Thanks: noted in the feedback log.";
  };
  turn.querySelector(".good").addEventListener("click", () => send("good"));
  turn.querySelector(".bad").addEventListener("click", () => send("bad"));
  turn.querySelector(".edit").addEventListener("click", () => {
    correction.hidden = !correction.hidden;
    correction.querySelector("textarea").value = result.sql || "";
  });
  turn.querySelector(".send-correction").addEventListener("click",
    () => send("bad", correction.querySelector("textarea").value));
  if (!result.sql) turn.querySelector(".good").disabled = true;
}

function setBusy(busy) {
  state.busy = busy;
  document.getElementById("ask").disabled = busy;
  document.getElementById("form-note").textContent = busy ? "the experts are working..." : "";
}

document.addEventListener("DOMContentLoaded", () => {
  const keyInput = document.getElementById("api-key");
  keyInput.value = state.apiKey;
  keyInput.addEventListener("change", () => {
    state.apiKey = keyInput.value;
    sessionStorage.setItem("apiKey", state.apiKey);
    loadStatus();
  });
  document.getElementById("ask-form").addEventListener("submit", event => {
    event.preventDefault();
    const question = document.getElementById("question");
    if (state.busy || !question.value.trim()) return;
    ask(question.value.trim(), document.getElementById("extra-context").value.trim());
    question.value = "";
  });
  document.getElementById("question").addEventListener("keydown", event => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      document.getElementById("ask-form").requestSubmit();
    }
  });
  document.getElementById("new-conversation").addEventListener("click", () => {
    state.conversationId = null;
    document.getElementById("thread").textContent = "";
    document.getElementById("new-conversation").hidden = true;
    document.getElementById("ask").textContent = "Ask";
  });
  loadStatus();
});
