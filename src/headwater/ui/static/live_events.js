// Headwater web UI, the event page: its decisions update without reloading while `up` runs.
// Polls the page's JSON (data-live on the decisions table): often until the reactor has
// decided, then slower (a replay may add decisions). Decisions are only ever added, so a
// different count (or the reactor having decided) is a change. The rows come rendered (and escaped) by the server, so an
// update looks exactly like a reload.
"use strict";

(() => {
  const FAST = 1000; // ms between polls while the reactor has not decided
  const SLOW = 4000; // ms between polls afterwards
  const table = document.getElementById("decisions");
  const rows = document.getElementById("decision-rows");
  if (!table || !rows || !table.dataset.live) return;
  const waiting = document.getElementById("waiting");
  const status = document.getElementById("live-status");
  let decided = table.dataset.decided === "true";
  let count = Number(table.dataset.count || "0");

  function say(text) {
    if (status) status.textContent = text;
  }

  function update(body) {
    const now = Boolean(body.decided);
    if (now === decided && body.decisions.length === count) return;
    decided = now;
    table.dataset.decided = decided ? "true" : "false";
    if (waiting) waiting.hidden = decided;
    count = body.decisions.length;
    table.dataset.count = String(count);
    rows.innerHTML = body.html;
    say(`Updated: ${count} decision${count === 1 ? "" : "s"}.`);
  }

  async function poll() {
    let next = SLOW;
    try {
      const answer = await fetch(table.dataset.live, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if ([401, 403, 404].includes(answer.status)) {
        say("Live updates stopped: this event can no longer be read.");
        return;
      }
      if (answer.ok) {
        update(await answer.json());
        next = decided ? SLOW : FAST;
      }
    } catch (err) {
      next = SLOW; // the server is restarting or gone: keep trying, slower
    }
    setTimeout(poll, next);
  }

  setTimeout(poll, decided ? SLOW : FAST);
})();
