// The chat page: ask, stream, show the verified answer with its citations; chats kept in
// localStorage; documents managed through /documents. No other host is asked; no inline code.
// Answers and quotes are Markdown, rendered by markdown() into DOM nodes (never innerHTML).
"use strict";

const $ = (id) => document.getElementById(id);
const form = $("form"), question = $("question"), keyBox = $("key"), turnsEl = $("turns");
const STORE = "rag-chats-v1";
// raw HTML off: a model's or a document's "<b>" stays text; links are checked (no javascript:)
const md = window.markdownit ? window.markdownit({ html: false, linkify: false, typographer: false }) : null;
const BUSY = "An answer is still being written: wait for it, or press Stop (Escape) first.";
let maxUpload = 0;  // the server's upload limit in bytes (from /documents/overview; 0: unknown)
const STAGES = {
  waiting: (s) => `Waiting for the model: ${s.ahead || 1} question(s) ahead…`,
  condensing: () => "Reading the conversation to understand the follow-up…",
  retrieving: (s) => `Searching the documents for “${s.question}”…`,
  reading: (s) => `Reading ${s.passages} passage(s)…`,
  writing: () => "Writing the answer (the text is checked against the passages when it ends)…",
  checking: () => "Asking the model whether the passages state its answer…",
};

// ---- state: chats in localStorage --------------------------------------------------------
// chat: {id, title, named?, updated, turns: [turn]}
// turn: {q, final?, searched?, own?, seconds?, error?, stopped?, versions?: [{final, searched,
//   own, seconds}], v?} — final/searched/own/seconds are those of the version shown (v)
// (own: the person asked to search their own words, not the rewritten follow-up)
let chats = load();
let current = null;  // the open chat's id
let running = null;  // {chat, turn, box, controller, why}

function load() {
  try { return JSON.parse(localStorage.getItem(STORE) || "[]").filter((c) => c && c.id); }
  catch (_) { return []; }
}
function save() {
  try { localStorage.setItem(STORE, JSON.stringify(chats)); } catch (_) { /* full or blocked */ }
}
function chat() { return chats.find((c) => c.id === current) || null; }
// A chat's name from its first question: up to 80 characters, cut between words.
function titleOf(q) {
  const flat = q.replace(/\s+/g, " ").trim();
  if (flat.length <= 80) return flat;
  const cut = flat.slice(0, 80), space = cut.lastIndexOf(" ");
  return (space > 40 ? cut.slice(0, space) : cut) + "…";
}
function newId() { return Date.now().toString(36) + Math.random().toString(36).slice(2, 7); }

// The messages sent with a question: only turns that finished with an answer.
function historyOf(c, upTo) {
  const out = [];
  for (const t of c.turns.slice(0, upTo)) {
    if (t.final) out.push({ role: "user", content: t.q }, { role: "assistant", content: t.final.answer });
  }
  return out;
}

// ---- small helpers -----------------------------------------------------------------------
function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}
function button(text, cls, onClick, title) {
  const b = el("button", cls, text);
  b.type = "button";
  if (title) b.title = title;
  b.addEventListener("click", onClick);
  return b;
}
// ---- Markdown, as DOM nodes ---------------------------------------------------------------
// Only these elements are made; headings become bold paragraphs (the page keeps its outline);
// images become their alt text (nothing is fetched); links only http(s) and mailto.
const MD_TAGS = new Set(["p", "ul", "ol", "li", "blockquote", "em", "strong", "s", "code", "pre",
  "table", "thead", "tbody", "tr", "th", "td", "hr", "br", "a"]);

// `text` into `target`, each "[n]" replaced by cite(n) when that gives a node.
function withCites(target, text, cite) {
  for (const part of text.split(/(\[\d+\])/)) {
    const m = part.match(/^\[(\d+)\]$/);
    const node = m && cite ? cite(Number(m[1])) : null;
    if (node) target.append(node);
    else if (part) target.append(part);
  }
}

function markdown(target, text, cite = null, inline = false) {
  target.textContent = "";
  if (!md) { withCites(target, text, cite); return; }
  target.classList.add("md");
  build(target, inline ? md.parseInline(text, {}) : md.parse(text, {}), cite);
}

function build(target, tokens, cite) {
  const stack = [target];
  for (const t of tokens) {
    const top = stack[stack.length - 1];
    if (t.type === "inline") { build(top, t.children || [], cite); continue; }
    if (t.nesting === 1) {
      const heading = /^h[1-6]$/.test(t.tag);
      const tag = heading ? "p" : MD_TAGS.has(t.tag) ? t.tag : t.block ? "div" : "span";
      const node = document.createElement(tag);
      if (heading) node.className = "md-heading";
      if (tag === "a") {
        const href = t.attrGet("href") || "";
        if (/^(https?:|mailto:)/i.test(href)) {
          node.href = href;
          node.title = href;
          node.rel = "noopener noreferrer nofollow";
          node.target = "_blank";
        }
      }
      if (tag === "ol" && Number(t.attrGet("start")) > 1) node.start = Number(t.attrGet("start"));
      top.append(node);
      stack.push(node);
    } else if (t.nesting === -1) {
      if (stack.length > 1) stack.pop();
    } else if (t.type === "text") {
      withCites(top, t.content, cite);
    } else if (t.type === "code_inline") {
      top.append(el("code", "", t.content));
    } else if (t.type === "fence" || t.type === "code_block") {
      const pre = el("pre");
      pre.append(el("code", "", t.content));
      top.append(pre);
    } else if (t.type === "softbreak" || t.type === "hardbreak") {
      top.append(el("br"));
    } else if (t.type === "hr") {
      top.append(el("hr"));
    } else if (t.type === "image") {
      top.append(`[image: ${t.content || "no description"}]`);
    } else if (t.content) {
      top.append(t.content);  // anything else (html_inline cannot occur: html is off) as text
    }
  }
}

function download(name, type, text) {
  const a = el("a");
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

function headers(json = true) {
  const h = json ? { "Content-Type": "application/json" } : {};
  if (keyBox.value) h.Authorization = "Bearer " + keyBox.value;
  return h;
}
function hint(text) { $("hint").textContent = text; }
function setBusy(on) {
  document.body.toggleAttribute("data-busy", on);
  $("ask").hidden = on;
  $("stop").hidden = !on;
}
function needKey(sent, focus = true) {
  $("key-label").hidden = false;
  if (focus) keyBox.focus();
  return sent
    ? "The API key was not accepted: check it, type it again in the box at the top, then ask again."
    : "This server needs an API key: type it in the box at the top, then ask again.";
}
// Try `value` as the API key (a small authorised GET); kept for this tab when accepted.
// Says the outcome beside the box it was typed in (`status`).
async function tryKey(value, status) {
  status.textContent = "Checking the key…";
  let res;
  try {
    res = await fetch("/documents/overview", { headers: value ? { Authorization: "Bearer " + value } : {} });
  } catch (_) {
    status.textContent = "Cannot reach the server to check the key.";
    return false;
  }
  if (res.status === 401) {
    status.textContent = value ? "That key was not accepted: check it and type it again." : "Type the key first.";
    return false;
  }
  keyBox.value = value;
  sessionStorage.setItem("rag-key", value);
  status.textContent = res.ok ? "Key accepted." : "";
  loadOverview();
  return true;
}
async function detailOf(res) {
  let detail = res.statusText;
  try { detail = (await res.json()).detail || detail; } catch (_) { /* not JSON */ }
  return typeof detail === "string" ? detail : JSON.stringify(detail);
}
// Keep `box` in view inside the scrolling log: its bottom if it fits, else its top.
function reveal(box) {
  const log = $("log"), lr = log.getBoundingClientRect(), br = box.getBoundingClientRect();
  if (br.bottom > lr.bottom) log.scrollTop += Math.min(br.bottom - lr.bottom + 12, br.top - lr.top - 12);
  else if (br.top < lr.top) log.scrollTop -= lr.top - br.top + 12;
}

// ---- the server line in the header -------------------------------------------------------
let offlineTimer = null;
async function checkServer() {
  const line = $("server");
  try {
    const res = await fetch("/readyz");
    if (res.ok) {
      const r = await res.json();
      line.textContent = `${r.model} · ${r.documents} document(s)`;
      line.className = "";
      clearInterval(offlineTimer);
      offlineTimer = null;
      return true;
    }
    line.textContent = res.status === 503 ? "loading the model…" : `server error ${res.status}`;
    line.className = "offline";
  } catch (_) {
    line.textContent = "offline: the server is not reachable";
    line.className = "offline";
  }
  if (!offlineTimer) offlineTimer = setInterval(checkServer, 5000);
  return false;
}

// ---- rendering one turn ------------------------------------------------------------------
function renderTurn(c, turn, live = false) {
  const article = el("article", "turn");
  const user = el("div", "msg user");
  user.append(el("div", "who", "you"), el("div", "answer", turn.q));
  const edit = button("Edit", "edit", () => editTurn(c, turn, user), "change this question and ask it again");
  edit.setAttribute("aria-label", "edit this question");
  const row = el("div", "actions");
  row.append(edit);
  user.append(row);
  const box = el("div", "msg assistant");
  const answer = el("div", "answer");
  answer.setAttribute("aria-live", "polite");
  box.append(el("div", "who", "answer"), el("div", "stage"), answer);
  box.setAttribute("role", "group");
  box.setAttribute("aria-label", "answer");
  article.append(user, box);
  turnsEl.append(article);
  if (turn.final && !turn.error && !turn.stopped) showAnswer(c, turn, box);
  else if (turn.error) showProblem(c, turn, box, turn.error);
  else if (turn.stopped) showProblem(c, turn, box, "Stopped before the answer was finished.", "stopped");
  else if (!live) showProblem(c, turn, box, "Not finished: the page was closed or reloaded.", "stopped");
  return box;
}

// The question becomes a box to change; sending it replaces this turn and every later one.
function editTurn(c, turn, user) {
  if (running) { hint(BUSY); return; }
  const area = el("textarea", "edit-box");
  area.value = turn.q;
  area.rows = Math.min(8, turn.q.split("\n").length + 1);
  area.setAttribute("aria-label", "the question, to change");
  const send = () => {
    const q = area.value.trim();
    if (!q || running) return;
    const index = c.turns.indexOf(turn);
    c.turns = c.turns.slice(0, index);
    if (index === 0 && !c.named) c.title = titleOf(q);
    c.updated = Date.now();
    renderChat();
    ask(q);
  };
  const row = el("div", "actions");
  row.append(button("Send", "edit-send", send, "ask the changed question (later turns are replaced)"),
    button("Cancel", "edit-cancel", () => renderChat()));
  user.querySelector(".answer").replaceWith(area);
  user.querySelector(".actions").replaceWith(row);
  area.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); send(); }
    else if (event.key === "Escape") { event.preventDefault(); renderChat(); }
  });
  area.focus();
}

function renderChat() {
  turnsEl.textContent = "";
  const c = chat();
  $("start").hidden = !!(c && c.turns.length);
  $("chat-bar").hidden = !(c && c.turns.length);
  if (c) $("chat-title").textContent = c.title;
  if (c) for (const t of c.turns) renderTurn(c, t);
  renderChats();
  const last = turnsEl.lastElementChild;
  if (last) reveal(last);
}

// Every word of the search in the chat's title, questions or answers (any version).
function matches(c, words) {
  if (!words.length) return true;
  const texts = [c.title];
  for (const t of c.turns) {
    texts.push(t.q);
    for (const v of versionsOf(t)) texts.push(v.final.answer);
  }
  const all = texts.join("\n").toLowerCase();
  return words.every((w) => all.includes(w));
}

function renderChats() {
  const list = $("chats");
  list.textContent = "";
  const words = $("chat-search").value.toLowerCase().split(/\s+/).filter(Boolean);
  const shown = [...chats].sort((a, b) => b.updated - a.updated).filter((c) => matches(c, words));
  for (const c of shown) {
    const li = el("li");
    const open = button(c.title, "open", () => { openChat(c.id); }, c.title);
    open.setAttribute("aria-current", String(c.id === current));
    const del = button("×", "del", () => deleteChat(c.id));
    del.setAttribute("aria-label", `delete the chat “${c.title}”`);
    li.append(open, del);
    list.append(li);
  }
  if (!shown.length && chats.length) list.append(el("li", "dim none", "No chat has these words."));
}

function renameChat() {
  const c = chat();
  if (!c) return;
  const title = $("chat-title"), input = el("input", "rename-box");
  input.value = c.title;
  input.setAttribute("aria-label", "the chat's name");
  let done = false;
  const finish = (keep) => {
    if (done) return;
    done = true;
    const name = input.value.trim();
    if (keep && name && name !== c.title) { c.title = name.slice(0, 200); c.named = true; save(); }
    input.replaceWith(title);
    renderChat();
    $("rename").focus();
  };
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") { event.preventDefault(); finish(true); }
    else if (event.key === "Escape") { event.preventDefault(); finish(false); }
  });
  input.addEventListener("blur", () => finish(true));
  title.replaceWith(input);
  input.select();
  input.focus();
}

// ---- export ------------------------------------------------------------------------------
function slug(text) {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 50) || "chat";
}

function sourcesMarkdown(citations) {  // as the API's footnotes (api/footnotes.py)
  return citations.map((ci) => `- [${ci.n}] ${where(ci)}, characters ${ci.start}–${ci.end}: `
    + `“${ci.quote.replace(/\s+/g, " ")}”`).join("\n");
}

function chatMarkdown(c) {
  const out = [`# ${c.title}`, "", `_Exported from rag on ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC._`];
  for (const t of c.turns) {
    out.push("", "## You", "", t.q, "", "## Answer", "");
    if (t.error || t.stopped || !t.final) {
      out.push(`_No answer: ${t.error || "stopped before it was finished"}._`);
      continue;
    }
    out.push(t.final.answer, "", `_${statusText(t.final, t.seconds)}_`);
    if (t.final.citations.length) out.push("", "**Sources**", sourcesMarkdown(t.final.citations));
  }
  return out.join("\n") + "\n";
}

function exportChat(kind) {
  const c = chat();
  if (!c) return;
  if (kind === "md") download(`${slug(c.title)}.md`, "text/markdown", chatMarkdown(c));
  else download(`${slug(c.title)}.json`, "application/json",
    JSON.stringify({ format: "rag-chat/1", exported: new Date().toISOString(), chat: c }, null, 2));
}

// "report.pdf, p. 12, Install › Requirements": where a citation's quote is
function where(c) { return [c.source, c.page ? `p. ${c.page}` : "", c.section || ""].filter(Boolean).join(", "); }

function citationsText(final) {
  if (!final.citations.length) return final.answer;
  const lines = final.citations.map((c) => `[${c.n}] ${where(c)}, characters ${c.start}–${c.end}: “${c.quote}”`);
  return `${final.answer}\n\nSources:\n${lines.join("\n")}`;
}

async function copy(text, btn) {
  try {
    await navigator.clipboard.writeText(text);
  } catch (_) {  // no clipboard API (plain http on another host): the old way
    const area = el("textarea");
    area.value = text;
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  btn.textContent = "Copied";
}

function versionsOf(turn) {  // chats saved before versions: their one answer is version 1
  if (!turn.versions) {
    turn.versions = turn.final ? [{ final: turn.final, searched: turn.searched, own: turn.own, seconds: turn.seconds }] : [];
    turn.v = 0;
  }
  return turn.versions;
}

function showVersion(c, turn, box, i) {
  const v = versionsOf(turn)[i];
  if (!v || running) return;
  const before = turn.final ? turn.v : versionsOf(turn).length;
  Object.assign(turn, { v: i, final: v.final, searched: v.searched, own: v.own, seconds: v.seconds });
  delete turn.error;
  delete turn.stopped;
  save();
  const forward = i > before;
  showAnswer(c, turn, box);
  const again = box.querySelector(forward ? ".next" : ".prev");  // focus stays on the arrows
  (again && !again.disabled ? again : box.querySelector(".version-nav button:not(:disabled)"))?.focus();
}

function actions(c, turn, box) {
  const row = el("div", "actions");
  const versions = versionsOf(turn);
  if (versions.length > 1) {  // ‹ 2/3 ›: the answers this question got, the shown one kept
    const shown = turn.final ? turn.v : -1;
    const nav = el("span", "version-nav");
    nav.setAttribute("role", "group");
    nav.setAttribute("aria-label", "versions of this answer");
    const prev = button("‹", "prev", () => showVersion(c, turn, box, (shown < 0 ? versions.length : shown) - 1), "the previous version");
    const next = button("›", "next", () => showVersion(c, turn, box, shown + 1), "the next version");
    prev.setAttribute("aria-label", "previous version");
    next.setAttribute("aria-label", "next version");
    prev.disabled = shown === 0;
    next.disabled = shown < 0 || shown >= versions.length - 1;
    const count = el("span", "count", shown < 0 ? `–/${versions.length}` : `${shown + 1}/${versions.length}`);
    nav.append(prev, count, next);
    row.append(nav);
  }
  if (turn.final) {
    const cp = button("Copy", "copy", () => copy(citationsText(turn.final), cp), "copy the answer with its sources");
    row.append(cp);
  }
  const isLast = c.turns[c.turns.length - 1] === turn;
  if (isLast) {
    const label = turn.final ? "Regenerate" : "Retry";
    row.append(button(label, turn.final ? "regenerate" : "retry", () => {
      if (!running) run(c, turn, box);
    }, turn.final ? "ask this question again (this answer is kept as a version)" : "ask this question again"));
    if (turn.final && turn.searched && turn.searched !== turn.q) {
      row.append(button("Search my own words", "own-words", () => {
        if (running) return;
        turn.own = true;
        run(c, turn, box);
      }, `search for “${turn.q}” as typed, not “${turn.searched}”`));
    }
  }
  box.append(row);
}

// What an answer's box shows below its text (sources, passage, actions, status lines).
function clearBox(box) {
  for (const old of box.querySelectorAll(".sources, .passage, .actions, .status, .searched")) old.remove();
}

// The verified answer (Markdown), with each [n] a button that opens the cited passage.
function showAnswer(c, turn, box) {
  const final = turn.final;
  box.className = "msg assistant" + (final.declined ? " declined" : "");
  box.querySelector(".stage").textContent = "";
  clearBox(box);
  const answer = box.querySelector(".answer");
  answer.setAttribute("aria-busy", "false");
  const byN = new Map(final.citations.map((ci) => [ci.n, ci]));
  let passage = null;
  const cite = (n) => {
    const ci = byN.get(n);
    if (!ci) return null;
    const btn = button(`[${ci.n}]`, "cite", () => {
      const open = btn.getAttribute("aria-expanded") === "true";
      box.querySelectorAll("button.cite").forEach((b) => b.setAttribute("aria-expanded", "false"));
      if (passage) passage.remove();
      passage = null;
      if (open) return;
      btn.setAttribute("aria-expanded", "true");
      passage = el("div", "passage");
      const quote = el("blockquote", "quote");
      markdown(quote, `“${ci.quote}”`, null, true);
      passage.append(
        quote,
        el("div", "where", `[${ci.n}] ${where(ci)} · characters ${ci.start}–${ci.end}`),
        button("Show in the document", "in-context", () => showContext(ci)),
      );
      box.insertBefore(passage, answer.nextSibling);
    }, `${ci.source}: open the quoted passage`);
    btn.setAttribute("aria-expanded", "false");
    return btn;
  };
  markdown(answer, final.answer, cite);
  if (final.citations.length) {
    const list = el("ol", "sources");
    list.setAttribute("aria-label", "sources");
    for (const ci of final.citations) list.append(el("li", "", `${where(ci)} (characters ${ci.start}–${ci.end})`));
    box.append(list);
  }
  if (final.decline === "not_sure" && final.passage) {  // the passage the withheld answer rested on
    const p = final.passage, near = el("div", "passage closest"), quote = el("blockquote", "quote");
    markdown(quote, `“${p.quote}”`, null, true);
    near.append(
      el("div", "where", `Closest passage found: ${where(p)} · characters ${p.start}–${p.end}`),
      quote,
      button("Show in the document", "in-context", () => showContext(p)),
    );
    box.append(near);
  }
  if (turn.searched && turn.searched !== turn.q) box.append(el("div", "searched", `searched for: ${turn.searched}`));
  else if (turn.own) box.append(el("div", "searched", "searched for your own words, as typed"));
  box.append(el("div", "status", statusText(final, turn.seconds)));
  actions(c, turn, box);
}

// One quiet line under the answer: what backs it, how sure the system is, in the band's words
// (docs/calibration.md, "Bands"), and how long it took; a decline says which kind it is.
function statusText(final, seconds) {
  const sure = typeof final.confidence === "number" ? `${Math.round(final.confidence * 100)}%` : null;
  if (final.decline === "not_sure") {
    return `not sure enough to answer (${sure ?? "?"} sure): judge the closest passage yourself`;
  }
  if (final.declined) return "declined: the passages found do not state this";
  const trust = final.band ? `${final.band.text} (${sure})`
    : sure ? `confidence ${sure}` : "no confidence: this model is not calibrated";
  const took = typeof seconds === "number" ? ` · answered in ${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s` : "";
  return `${final.citations.length} citation(s) · ${trust}${took}`;
}

function showProblem(c, turn, box, message, kind = "error") {
  box.className = `msg assistant ${kind}`;
  box.querySelector(".stage").textContent = "";
  clearBox(box);
  const answer = box.querySelector(".answer");
  answer.classList.remove("md");
  answer.textContent = message;
  answer.setAttribute("aria-busy", "false");
  actions(c, turn, box);
}

// ---- asking ------------------------------------------------------------------------------
class Problem extends Error {}

async function readStream(res, box, turn, me) {
  const answer = box.querySelector(".answer"), stage = box.querySelector(".stage");
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buf = "", streamed = "";
  for (;;) {
    let chunk;
    try { chunk = await reader.read(); } catch (err) {
      if (me.why) throw err;  // stopped by the user
      checkServer();
      throw new Problem("The connection to the server was lost before the answer was finished. "
        + "Check that the server is running, then press Retry.");
    }
    if (chunk.done) break;
    buf += decoder.decode(chunk.value, { stream: true }).replace(/\r\n?/g, "\n");
    let cut;
    while ((cut = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      const data = block.split("\n").filter((l) => l.startsWith("data:"))
        .map((l) => l.slice(5).replace(/^ /, "")).join("\n");
      if (!data || data === "[DONE]") continue;  // comments (pings) and the end marker
      const obj = JSON.parse(data);
      if (obj.error) throw new Problem(`The server failed while answering: ${obj.error.message}. Press Retry to ask again.`);
      if (obj.rag_stage) {
        const s = obj.rag_stage;
        stage.textContent = (STAGES[s.stage] || (() => s.stage))(s);
        box.dataset.stages = (box.dataset.stages ? box.dataset.stages + "," : "") + s.stage;
        if (s.stage === "retrieving") turn.searched = s.question;
      }
      const delta = obj.choices?.[0]?.delta?.content;
      if (delta) {  // provisional: replaced by the verified answer at the end
        streamed += delta;
        markdown(answer, streamed);
        box.dataset.tokens = String(Number(box.dataset.tokens || 0) + 1);
      }
      if (obj.citations) return obj;
    }
  }
  throw new Problem("The answer stopped before it was finished. Press Retry to ask again.");
}

async function run(c, turn, box) {
  const index = c.turns.indexOf(turn);
  versionsOf(turn);  // the answer shown so far stays a version
  delete turn.final; delete turn.error; delete turn.stopped; delete turn.searched; delete turn.seconds;
  box.className = "msg assistant streaming";
  clearBox(box);
  box.dataset.tokens = "0";
  box.dataset.stages = "";
  const answer = box.querySelector(".answer");
  answer.textContent = "";
  answer.setAttribute("aria-busy", "true");
  box.querySelector(".stage").textContent = "Sending the question…";
  const began = performance.now();
  const controller = new AbortController();
  const me = { chat: c, turn, box, controller, why: null };
  running = me;
  setBusy(true);
  hint("");
  reveal(box);
  const messages = [...historyOf(c, index), { role: "user", content: turn.q }];
  const sentKey = !!keyBox.value;
  let res;
  try {
    try {
      res = await fetch("/v1/chat/completions", {
        method: "POST", headers: headers(), signal: controller.signal,
        body: JSON.stringify({ messages, stream: true, ...(turn.own ? { rag_rewrite: false } : {}) }),
      });
    } catch (err) {
      if (me.why) throw err;
      checkServer();
      throw new Problem(`Cannot reach the server at ${location.host}: it may be stopped or restarting. `
        + "Start it (rag serve), then press Retry.");
    }
    if (res.status === 401) throw new Problem(needKey(sentKey));
    if (!res.ok) {
      const detail = await detailOf(res);
      const retry = res.headers.get("Retry-After");
      if (res.status === 503) checkServer();
      throw new Problem(res.status >= 500
        ? `The server cannot answer now: ${detail}` + (retry ? ` Press Retry in ${retry} s.` : "")
        : `The server refused the question (${res.status}): ${detail}`);
    }
    box.querySelector(".stage").textContent = "Started…";
    turn.final = await readStream(res, box, turn, me);
    turn.seconds = (performance.now() - began) / 1000;
    turn.versions.push({ final: turn.final, searched: turn.searched, own: turn.own, seconds: turn.seconds });
    turn.v = turn.versions.length - 1;
    showAnswer(c, turn, box);
  } catch (err) {
    if (me.why) {
      turn.stopped = true;
      showProblem(c, turn, box, "Stopped before the answer was finished.", "stopped");
    } else {
      turn.error = err instanceof Problem ? err.message : `Something went wrong in the page: ${err.message || err}`;
      showProblem(c, turn, box, turn.error);
    }
  } finally {
    if (running === me) {
      running = null;
      setBusy(false);
    }
    hint("");  // "still being written" no longer holds
    c.updated = Date.now();
    save();
    renderChats();
    reveal(box);
    if (!$("key-label").hidden && document.activeElement === keyBox) { /* leave focus in the key box */ }
    else if (document.activeElement === document.body || document.activeElement === $("stop")) question.focus();
  }
}

// Abort the running answer: the server notices the closed connection and stops generating.
function stop(why = "stop") {
  if (!running) return;
  const me = running;
  me.why = why;
  running = null;  // the page is free at once; the aborted run only tidies its own turn
  setBusy(false);
  me.controller.abort();
}

function ask(q) {
  if (running) {
    hint(BUSY);
    return false;
  }
  let c = chat();
  if (!c) {
    c = { id: newId(), title: titleOf(q), updated: Date.now(), turns: [] };
    chats.push(c);
    current = c.id;
    localStorage.setItem(STORE + "-current", current);
  }
  const turn = { q };
  c.turns.push(turn);
  c.updated = Date.now();
  save();
  renderChats();  // a new chat is in the list from its first question
  $("start").hidden = true;
  $("chat-bar").hidden = false;
  $("chat-title").textContent = c.title;
  // the previous last turn loses its Regenerate/Retry button
  const prev = turnsEl.lastElementChild;
  if (prev) for (const b of prev.querySelectorAll(".regenerate, .retry")) b.remove();
  const box = renderTurn(c, turn, true);
  run(c, turn, box);
  return true;
}

function openChat(id) {
  stop("switch");
  current = id;
  if (id) localStorage.setItem(STORE + "-current", id);
  else localStorage.removeItem(STORE + "-current");
  closeSide();
  renderChat();
  question.focus();
}

function deleteChat(id) {
  const c = chats.find((x) => x.id === id);
  if (!c || !confirm(`Delete the chat “${c.title}”? This cannot be undone.`)) return;
  if (running && running.chat === c) stop("switch");
  chats = chats.filter((x) => x.id !== id);
  save();
  if (current === id) openChat(null); else renderChats();
}

// ---- the passage in its document ---------------------------------------------------------
async function showContext(cite) {
  const dlg = $("context"), text = $("context-text");
  $("context-where").textContent = `${where(cite)} · characters ${cite.start}–${cite.end}`;
  text.textContent = "Loading…";
  dlg.showModal();
  try {
    const url = `/documents/${encodeURIComponent(cite.source)}/text?start=${cite.start}&end=${cite.end}&around=800`;
    const res = await fetch(url, { headers: headers(false) });
    if (!res.ok) {
      text.textContent = res.status === 401 ? needKey(!!keyBox.value) : `Cannot show the document: ${await detailOf(res)}`;
      return;
    }
    const doc = await res.json();
    const mark = el("mark", "", doc.quote);
    text.textContent = "";
    text.append((doc.before && doc.before.length < doc.start ? "…" : "") + doc.before, mark, doc.after + "…");
    mark.scrollIntoView({ block: "center" });
  } catch (_) {
    text.textContent = "Cannot reach the server to load the document.";
  }
}

// ---- start screen ------------------------------------------------------------------------
async function loadOverview() {
  try {
    const res = await fetch("/documents/overview", { headers: headers(false) });
    if (res.status === 401) {
      needKey(!!keyBox.value, !document.querySelector("dialog[open]"));
      $("start-what").textContent = "This server needs an API key: type it in the API key box at "
        + "the top and press Enter; then the documents are listed here.";
      return;
    }
    if (!res.ok) {
      $("start-what").textContent = "The documents are not available yet.";
      return;
    }
    const o = await res.json();
    maxUpload = o.max_upload_bytes || 0;
    $("start-what").textContent = o.documents
      ? `${o.documents} document(s) are indexed (${o.chunks} passages): ${o.titles.join("; ")}. `
        + "Answers quote them, and every sentence is checked against them."
      : "No documents yet: add some with the Documents button.";
    const list = $("examples");
    list.textContent = "";
    for (const q of o.examples) {
      const li = el("li");
      li.append(button(q, "example", () => ask(q)));
      list.append(li);
    }
  } catch (_) {
    $("start-what").textContent = "The server is not reachable.";
  }
}

// ---- documents ---------------------------------------------------------------------------
function mb(n) { return `${+(n / 1e6).toFixed(1)} MB`; }
function size(n) {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)} M chars` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k chars` : `${n} chars`;
}

async function loadDocuments() {
  const body = $("doc-table").querySelector("tbody");
  $("docs-error").textContent = "";
  try {
    const res = await fetch("/documents", { headers: headers(false) });
    if (res.status === 401) { askKeyInDialog(); return; }
    if (!res.ok) {
      $("docs-error").textContent = await detailOf(res);
      return;
    }
    $("docs-key").hidden = true;
    body.textContent = "";
    const docs = await res.json();
    if (!docs.length) {
      const tr = el("tr"), td = el("td", "dim", "No documents yet.");
      td.colSpan = 5;
      tr.append(td);
      body.append(tr);
    }
    for (const d of docs) {
      const tr = el("tr");
      tr.dataset.source = d.source;
      const del = button("Delete", "delete", () => removeDocument(d));
      del.setAttribute("aria-label", `delete ${d.source}`);
      const tdDel = el("td");
      tdDel.append(del);
      tr.append(el("td", "name", d.source), el("td", "num", size(d.chars)), el("td", "num", String(d.chunks)),
        el("td", "date", d.added ? d.added.slice(0, 16).replace("T", " ") + " UTC" : "—"), tdDel);
      body.append(tr);
    }
  } catch (_) {
    $("docs-error").textContent = "Cannot reach the server to list the documents.";
  }
}

// The Documents dialog covers the header's key box: it asks for the key itself.
function askKeyInDialog() {
  needKey(!!keyBox.value, false);
  $("docs-error").textContent = keyBox.value
    ? "The API key was not accepted: type it again here."
    : "This server needs an API key to list or add documents: type it here.";
  $("docs-key").hidden = false;
  $("docs-key-input").value = keyBox.value;
  $("docs-key-input").focus();
}

async function removeDocument(d) {
  if (!confirm(`Remove “${d.source}” from the index? Its ${d.chunks} passage(s) will no longer be searched. The file on your disk is not touched.`)) return;
  try {
    const res = await fetch(`/documents/${encodeURIComponent(d.doc_id)}`, { method: "DELETE", headers: headers(false) });
    if (res.status === 401) { askKeyInDialog(); return; }
    if (!res.ok) { $("docs-error").textContent = `Could not delete ${d.source}: ${await detailOf(res)}`; return; }
  } catch (_) {
    $("docs-error").textContent = `Could not delete ${d.source}: the server is not reachable.`;
    return;
  }
  for (const li of $("uploads").querySelectorAll("li")) if (li.dataset.name === d.source) li.remove();
  await Promise.all([loadDocuments(), checkServer(), loadOverview()]);
}

function uploadOne(file, row) {
  return new Promise((resolve) => {
    const bar = row.querySelector("progress"), state = row.querySelector(".state");
    const fail = (msg) => { row.classList.add("failed"); state.textContent = msg; bar.remove(); resolve(false); };
    if (maxUpload && file.size > maxUpload) {  // refused before a byte is sent
      fail(`not added: ${mb(file.size)} is over this server's ${mb(maxUpload)} upload limit `
        + "(RAG_MAX_UPLOAD_MB); split the file or ask for a higher limit");
      return;
    }
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/documents");
    for (const [k, v] of Object.entries(headers(false))) xhr.setRequestHeader(k, v);
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) { bar.max = e.total; bar.value = e.loaded; }
      if (e.loaded === e.total) state.textContent = "indexing…";
    });
    xhr.addEventListener("load", () => {
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch (_) { /* not JSON */ }
      if (xhr.status === 201) {
        bar.remove();
        row.classList.add("done");
        state.textContent = `${body.status} · ${body.document.chunks} passage(s)`;
        resolve(true);
      } else if (xhr.status === 401) {
        fail("not added: the server needs an API key");
        askKeyInDialog();
      } else {
        fail(`not added: ${typeof body.detail === "string" ? body.detail : xhr.statusText || "error " + xhr.status}`);
      }
    });
    xhr.addEventListener("error", () => fail("not added: the server is not reachable"));
    const data = new FormData();
    data.append("file", file, file.name);
    state.textContent = "uploading…";
    xhr.send(data);
  });
}

async function upload(files) {
  const list = $("uploads");
  const rows = [...files].map((f) => {
    const li = el("li");
    li.dataset.name = f.name;
    li.append(el("span", "name", f.name), el("progress"), el("span", "state", "waiting…"));
    list.append(li);
    return [f, li];
  });
  for (const [f, li] of rows) await uploadOne(f, li);  // one at a time: the index has one writer
  await Promise.all([loadDocuments(), checkServer(), loadOverview()]);
}

// ---- wiring ------------------------------------------------------------------------------
function grow() {  // the question box grows with its text (up to its CSS max-height)
  question.style.height = "auto";
  question.style.height = `${question.scrollHeight + 2}px`;
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const q = question.value.trim();
  if (!q) return;
  if (ask(q)) { question.value = ""; grow(); }
});
question.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    form.requestSubmit();
  }
});
question.addEventListener("input", grow);
window.addEventListener("resize", grow);
$("stop").addEventListener("click", () => stop("stop"));
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && running && !document.querySelector("dialog[open]")) {
    event.preventDefault();
    stop("stop");
  }
});
$("new").addEventListener("click", () => openChat(null));

// On a phone the chat list opens over the page, below the header (the Chats button stays
// visible); Escape, the button again, or a tap outside it closes it.
function closeSide(focusMenu = false) {
  if (!$("side").classList.contains("open")) return;
  $("side").classList.remove("open");
  $("menu").setAttribute("aria-expanded", "false");
  if (focusMenu) $("menu").focus();
}
$("menu").addEventListener("click", () => {
  if ($("side").classList.contains("open")) { closeSide(); return; }
  $("side").style.top = `${document.querySelector("header").getBoundingClientRect().bottom}px`;
  $("side").classList.add("open");
  $("menu").setAttribute("aria-expanded", "true");
  $("new").focus();
});
document.addEventListener("pointerdown", (event) => {
  if ($("side").classList.contains("open") && !$("side").contains(event.target) && !$("menu").contains(event.target)) {
    closeSide();
  }
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && $("side").classList.contains("open") && !running
    && !document.querySelector("dialog[open]") && !event.target.closest?.(".rename-box, .edit-box")) {
    closeSide(true);
  }
});
$("chat-search").addEventListener("input", renderChats);
$("rename").addEventListener("click", renameChat);
$("export-md").addEventListener("click", () => exportChat("md"));
$("export-json").addEventListener("click", () => exportChat("json"));

keyBox.value = sessionStorage.getItem("rag-key") || "";
if (keyBox.value) $("key-label").hidden = false;
keyBox.addEventListener("keydown", async (event) => {
  if (event.key !== "Enter") return;
  event.preventDefault();
  if (await tryKey(keyBox.value.trim(), $("key-status"))) question.focus();
  else { keyBox.focus(); keyBox.select(); }
});
$("docs-key").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $("docs-key-input");
  if (await tryKey(input.value.trim(), $("docs-error"))) {
    $("key-status").textContent = "";
    loadDocuments();
  } else { input.focus(); input.select(); }
});
$("docs-open").addEventListener("click", () => {
  for (const li of $("uploads").querySelectorAll("li.done, li.failed")) li.remove();  // last time's
  $("docs").showModal();
  loadDocuments();
});
for (const b of document.querySelectorAll("[data-close]")) {
  b.addEventListener("click", () => $(b.dataset.close).close());
}
$("files").addEventListener("change", (e) => { upload(e.target.files); e.target.value = ""; });
const drop = $("drop");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  if (e.dataTransfer && e.dataTransfer.files.length) upload(e.dataTransfer.files);
});

current = localStorage.getItem(STORE + "-current");
if (!chat()) current = null;
renderChat();
checkServer();
loadOverview();
question.focus();
