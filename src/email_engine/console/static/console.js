// Email Engine console: the only script the pages load (no library, nothing from another host).
"use strict";

// Times are rendered in UTC by the server; show them in the browser's time zone (UTC stays on hover).
function localTimes(root) {
  for (const el of root.querySelectorAll("time[data-local]")) {
    const moment = new Date(el.getAttribute("datetime"));
    if (!isNaN(moment)) {
      el.textContent = moment.toLocaleString(undefined, {
        year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
      });
    }
  }
}

// Forms that change something important ask first (deploy, abort, forced moves…).
function confirmations(root) {
  for (const form of root.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    });
  }
}

// A validation job's progress: poll its JSON status (same origin) until it is done or failed.
function progress(root) {
  const box = root.querySelector("[data-progress-url]");
  if (!box) return;
  const url = box.getAttribute("data-progress-url");
  const bar = box.querySelector("progress");
  const text = box.querySelector("[data-progress-text]");
  const done = box.querySelector("[data-progress-done]");
  async function tick() {
    let job;
    try {
      const answer = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (answer.status === 429) {  // this client's request budget is spent: wait as the server says
        const wait = parseInt(answer.headers.get("Retry-After") || "10", 10);
        window.setTimeout(tick, Math.max(wait, 1) * 1000);
        return;
      }
      if (!answer.ok) { text.textContent = "Progress unavailable (" + answer.status + "); reload the page."; return; }
      job = await answer.json();
    } catch (error) {
      text.textContent = "Progress unavailable; reload the page.";
      return;
    }
    bar.value = Math.round(job.progress * 100);
    text.textContent = job.summary;
    if (job.status === "done" || job.status === "failed") {
      if (done) { done.hidden = false; }
      if (job.status === "done") { window.location.reload(); }
      return;
    }
    window.setTimeout(tick, 2000);  // 30 polls a minute: half the default request budget
  }
  tick();
}

document.addEventListener("DOMContentLoaded", () => {
  localTimes(document);
  confirmations(document);
  progress(document);
});
