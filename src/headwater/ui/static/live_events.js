// Headwater web UI, the Events pages: what the reactor decides and what arrives shows up
// without reloading while `up` runs. Both pages poll their JSON (data-live on the table);
// the rows come rendered (and escaped) by the server, so an update looks exactly like a
// reload.
"use strict";

(() => {
  const FAST = 1000; // ms between polls while the reactor has not decided an event
  const SLOW = 4000; // ms between polls otherwise
  const status = document.getElementById("live-status");

  function say(text) {
    if (status) status.textContent = text;
  }

  // Poll the URL `where()` gives and give each answer to `apply`, which says how long to
  // wait for the next.
  async function poll(where, apply) {
    let next = SLOW;
    try {
      const answer = await fetch(where(), {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if ([400, 401, 403, 404].includes(answer.status)) {
        say("Live updates stopped: reload the page.");
        return;
      }
      if (answer.ok) next = apply(await answer.json());
    } catch (err) {
      next = SLOW; // the server is restarting or gone: keep trying, slower
    }
    setTimeout(() => poll(where, apply), next);
  }

  // The event page: decisions are only ever added, so a different count (or the reactor
  // having decided) is a change.
  function liveDecisions(table) {
    const rows = document.getElementById("decision-rows");
    const waiting = document.getElementById("waiting");
    let decided = table.dataset.decided === "true";
    let count = Number(table.dataset.count || "0");
    const apply = (body) => {
      const now = Boolean(body.decided);
      if (now !== decided || body.decisions.length !== count) {
        decided = now;
        table.dataset.decided = decided ? "true" : "false";
        if (waiting) waiting.hidden = decided;
        if (typeof body.html === "string") {
          count = body.decisions.length;
          table.dataset.count = String(count);
          rows.innerHTML = body.html;
          say(`Updated: ${count} decision${count === 1 ? "" : "s"}.`);
        }
      }
      return decided ? SLOW : FAST;
    };
    const where = () => `${table.dataset.live}&known=${count}`;
    setTimeout(() => poll(where, apply), decided ? SLOW : FAST);
  }

  // The first page of the events list: new events have a higher seq than the newest shown.
  function liveList(table) {
    const rows = document.getElementById("event-rows");
    let newest = Number(table.dataset.newest || "0");
    const apply = (body) => {
      if (body.newest !== newest) {
        newest = body.newest;
        table.dataset.newest = String(newest);
        rows.innerHTML = body.html;
        updateOlderLink(body.next_link);
        say("New events arrived.");
      }
      return SLOW;
    };
    setTimeout(() => poll(() => table.dataset.live, apply), SLOW);
  }

  function updateOlderLink(href) {
    const pager = document.querySelector("nav.pager");
    let link = pager ? pager.querySelector("a[rel=next]") : null;
    if (!pager) return;
    if (!href) {
      if (link) link.remove();
      return;
    }
    if (!link) {
      link = document.createElement("a");
      link.rel = "next";
      link.textContent = "Older events";
      pager.appendChild(link);
    }
    link.href = href;
  }

  const decisions = document.getElementById("decisions");
  if (decisions && decisions.dataset.live) liveDecisions(decisions);
  const list = document.getElementById("events");
  if (list && list.dataset.live) liveList(list);
})();
