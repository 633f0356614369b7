// Headwater web UI: live execution status without reloading (served from /static; the
// Content-Security-Policy forbids inline scripts), and the version filter of the Relaunch form.
// Polls the server's small JSON answers every POLL_MS while something is still running.
"use strict";

const POLL_MS = 1500;

function setStatus(span, status, terminal) {
  span.textContent = status;
  span.className = "status status-" + status;
  span.dataset.status = status;
  span.dataset.terminal = terminal ? "true" : "false";
}

function fmtDuration(seconds, digits) {
  return seconds === null || seconds === undefined ? "" : seconds.toFixed(digits) + " s";
}

// The page's sections below the facts (timeline, outputs, error) as the server renders
// them now: fetched again when the status changes, so they follow the run.
function refreshBody() {
  const body = document.getElementById("live-body");
  if (!body) return;
  fetch(window.location.href, { credentials: "same-origin" })
    .then((r) => (r.ok ? r.text() : Promise.reject(r.status)))
    .then((html) => {
      const fresh = new DOMParser().parseFromString(html, "text/html").getElementById("live-body");
      if (fresh) body.replaceChildren(...Array.from(fresh.childNodes));
    })
    .catch(() => {});
}

// One execution's page: #status carries the id; poll until the status is terminal.
function watchExecution(span) {
  const id = span.dataset.executionId;
  const tick = () => {
    fetch("/ui/executions/" + encodeURIComponent(id) + ".json", { credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
      .then((ex) => {
        const changed = span.dataset.status !== ex.status;
        setStatus(span, ex.status, ex.terminal);
        if (changed) refreshBody();
        const put = (elId, text) => {
          const el = document.getElementById(elId);
          if (el && text !== null && text !== undefined) el.textContent = text;
        };
        put("started", ex.started_at);
        put("finished", ex.finished_at);
        put("duration", fmtDuration(ex.duration, 3));
        if (ex.terminal) {
          const note = document.getElementById("live-note");
          if (note) note.hidden = false;
        } else {
          setTimeout(tick, POLL_MS);
        }
      })
      .catch(() => setTimeout(tick, POLL_MS * 4));
  };
  setTimeout(tick, POLL_MS);
}

function cell(tr, text, className) {
  const td = document.createElement("td");
  if (className) td.className = className;
  if (text !== null) td.textContent = text;
  tr.appendChild(td);
  return td;
}

function link(parent, href, text, className) {
  const a = document.createElement("a");
  a.href = href;
  a.textContent = text;
  if (className) a.className = className;
  parent.appendChild(a);
}

// A row of the list for an execution the server reported (built as text: never as HTML).
function newRow(ex) {
  const tr = document.createElement("tr");
  tr.className = "execution-row";
  tr.dataset.executionId = ex.id;
  tr.dataset.created = ex.created_at || "";
  link(cell(tr, null), "/executions/" + encodeURIComponent(ex.id), ex.id.slice(0, 12), "execution-link");
  cell(tr, ex.workflow);
  const span = document.createElement("span");
  setStatus(span, ex.status, ex.terminal);
  cell(tr, null).appendChild(span);
  const lp = cell(tr, null);
  if (ex.launch_plan) link(lp, "/launch-plans/" + encodeURIComponent(ex.launch_plan), ex.launch_plan);
  cell(tr, ex.project + "/" + ex.domain);
  const time = document.createElement("time");
  time.textContent = ex.created;
  cell(tr, null).appendChild(time);
  cell(tr, fmtDuration(ex.duration, 2), "duration");
  return tr;
}

// The first page of the list: executions created since the newest row shown (same filters)
// are added at the top; the page keeps its size.
function addNewRows(table) {
  const body = table.tBodies[0];
  const first = body.querySelector("tr[data-execution-id]");
  const params = new URLSearchParams(window.location.search);
  params.delete("page");
  params.set("top", first ? first.dataset.created : "");
  return fetch("/ui/executions-new.json?" + params.toString(), { credentials: "same-origin" })
    .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
    .then((found) => {
      const fresh = found.executions.filter(
        (ex) => !body.querySelector('tr[data-execution-id="' + CSS.escape(ex.id) + '"]')
      );
      if (fresh.length === 0) return;
      for (const empty of body.querySelectorAll("tr.no-rows")) empty.remove();
      for (const ex of fresh.reverse()) body.insertBefore(newRow(ex), body.firstChild);
      const size = Number(table.dataset.pageSize || "50");
      const rows = body.querySelectorAll("tr[data-execution-id]");
      for (let i = size; i < rows.length; i++) rows[i].remove();
    });
}

// The executions list: poll the rows still queued or running (and new ones on page 1).
function watchList(table) {
  const firstPage = table.dataset.page === "1";
  const tick = () => {
    if (firstPage) {
      addNewRows(table)
        .catch(() => {})
        .then(() => pollRows(table, tick));
    } else {
      pollRows(table, tick);
    }
  };
  setTimeout(tick, POLL_MS);
}

function pollRows(table, again) {
  const live = Array.from(table.querySelectorAll("tr[data-execution-id]")).filter(
    (tr) => tr.querySelector(".status").dataset.terminal !== "true"
  );
  if (live.length === 0) {
    if (table.dataset.page === "1") setTimeout(again, POLL_MS);
    return;
  }
  const query = live.map((tr) => "id=" + encodeURIComponent(tr.dataset.executionId)).join("&");
  fetch("/ui/executions.json?" + query, { credentials: "same-origin" })
    .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
    .then((body) => {
      for (const ex of body.executions) {
        const tr = table.querySelector('tr[data-execution-id="' + CSS.escape(ex.id) + '"]');
        if (!tr) continue;
        setStatus(tr.querySelector(".status"), ex.status, ex.terminal);
        const cellEl = tr.querySelector(".duration");
        if (cellEl) cellEl.textContent = fmtDuration(ex.duration, 2);
      }
      setTimeout(again, POLL_MS);
    })
    .catch(() => setTimeout(again, POLL_MS * 4));
}

// Relaunch form: typing in a filter hides the versions of the list that do not match.
function filterVersions(input) {
  const select = document.getElementById(input.dataset.select);
  if (!select) return;
  input.addEventListener("input", () => {
    const words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    for (const option of select.options) {
      const text = (option.textContent + " " + option.value).toLowerCase();
      option.hidden = !words.every((w) => text.includes(w));
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const status = document.getElementById("status");
  if (status && status.dataset.executionId && status.dataset.terminal !== "true") {
    watchExecution(status);
  }
  const table = document.querySelector("table[data-live=executions]");
  if (table) watchList(table);
  for (const input of document.querySelectorAll("input.version-filter[data-select]")) {
    filterVersions(input);
  }
});
