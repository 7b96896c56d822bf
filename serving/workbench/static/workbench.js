// The workbench's keyboard and POSTs. Pages are rendered on the server; this script only sends
// decisions (JSON, with the page's CSRF token in a header) and moves between cards. Messages from
// the server are shown with textContent, never as markup.
"use strict";

const csrf = () => document.querySelector('meta[name="csrf"]').content;
const say = (text) => { document.getElementById("message").textContent = text; };
const curator = () => document.getElementById("curator").value.trim();

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST", credentials: "same-origin",
    headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf()},
    body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = typeof answer.detail === "string" ? answer.detail : JSON.stringify(answer.detail);
    throw new Error(`${response.status}: ${detail}`);
  }
  return answer;
}

function go(card, at, page) {
  const query = card ? card.dataset.query : "";
  window.location.assign(`/?${query}&page=${page ?? (card ? card.dataset.page : 0)}&at=${at}`);
}

function move(step) {
  const card = document.getElementById("card");
  if (!card) return;
  const at = Number(card.dataset.at) + step, count = Number(card.dataset.count), page = Number(card.dataset.page);
  if (at < 0) { if (page > 0) go(card, 0, page - 1); return; }
  if (at >= count) { go(card, 0, page + 1); return; }
  go(card, at, page);
}

async function act(action) {
  const card = document.getElementById("card");
  if (action === "undo") {
    return post("/api/undo", {by: curator()}).then((undone) => {
      sessionStorage.setItem("kgrec-message", `undone: ${undone.ids.length} relation(s)`);
      window.location.reload();
    });
  }
  if (!card) return;
  if (action === "skip") { move(1); return; }
  const body = {by: curator(), id: card.dataset.id, version: Number(card.dataset.version), action};
  if (action === "relabel") body.to = document.getElementById("relabel-to").value;
  const done = await post("/api/decide", body);
  sessionStorage.setItem("kgrec-message", `${action}: ${done.ids.join(", ")}`);
  window.location.reload();  // the decided relation leaves the queue; the same place shows the next card
}

async function bulk(confirmed) {
  const form = document.getElementById("bulk");
  const body = {by: curator(), where: JSON.parse(form.dataset.where),
                action: document.getElementById("bulk-action").value};
  if (confirmed) body.expected = Number(form.dataset.count);
  const answer = await post("/api/bulk", body);
  if (!confirmed) {
    form.dataset.count = answer.count;
    document.getElementById("bulk-question").textContent =
      `${body.action === "reject" ? "Reject" : "Accept"} ${answer.count} relation(s) this filter selects?`;
    document.getElementById("bulk-confirm").hidden = false;
    return;
  }
  sessionStorage.setItem("kgrec-message", `bulk ${body.action}: ${answer.count} relation(s)`);
  window.location.reload();
}

const KEYS = {a: "accept", r: "reject", l: "relabel", s: "skip", u: "undo"};

function onKey(event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (["INPUT", "SELECT", "TEXTAREA"].includes(event.target.tagName)) return;
  if (event.key === "j" || event.key === "ArrowDown") { event.preventDefault(); move(1); return; }
  if (event.key === "k" || event.key === "ArrowUp") { event.preventDefault(); move(-1); return; }
  const action = KEYS[event.key];
  if (action) { event.preventDefault(); act(action).catch((e) => say(e.message)); }
}

function start() {
  const name = document.getElementById("curator");
  name.value = localStorage.getItem("kgrec-curator") || document.querySelector('meta[name="curator"]').content;
  name.addEventListener("change", () => localStorage.setItem("kgrec-curator", name.value.trim()));
  const left = sessionStorage.getItem("kgrec-message");
  if (left) { say(left); sessionStorage.removeItem("kgrec-message"); }
  document.addEventListener("keydown", onKey);
  document.querySelectorAll("[data-action]").forEach((button) => button.addEventListener(
    "click", () => act(button.dataset.action).catch((e) => say(e.message))));
  document.getElementById("bulk-count")?.addEventListener("click", () => bulk(false).catch((e) => say(e.message)));
  document.getElementById("bulk-go")?.addEventListener("click", () => bulk(true).catch((e) => say(e.message)));
  document.getElementById("export")?.addEventListener("click", () => post("/api/export", {})
    .then((done) => say(`${done.labels} label(s) written to ${done.path}`)).catch((e) => say(e.message)));
  document.getElementById("login")?.addEventListener("submit", (event) => {
    event.preventDefault();
    post("/login", {token: document.getElementById("token").value})
      .then(() => window.location.assign("/")).catch((e) => say(e.message));
  });
}

document.addEventListener("DOMContentLoaded", start);
