// The chat page: streamed answers from /v1/chat/completions, openable citations.
"use strict";
const $ = (id) => document.getElementById(id);
const log = $("log"), form = $("form"), question = $("question"), keyBox = $("key");
let history = [];  // [{role, content}] sent with every question, for follow-ups
keyBox.value = sessionStorage.getItem("rag-key") || "";
if (keyBox.value) keyBox.style.display = "block";
keyBox.addEventListener("change", () => sessionStorage.setItem("rag-key", keyBox.value));

function headers() {
  const h = { "Content-Type": "application/json" };
  if (keyBox.value) h.Authorization = "Bearer " + keyBox.value;
  return h;
}

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}

function bubble(role, text) {
  const box = el("div", "msg " + role);
  box.append(el("div", "who", role === "user" ? "you" : "answer"), el("div", "answer", text));
  log.append(box);
  box.scrollIntoView({ block: "end" });
  return box;
}

function showError(box, message) {
  box.className = "msg assistant error";
  box.querySelector(".answer").textContent = message;
}

// The verified answer, with each [n] a button that opens the cited passage.
function showAnswer(box, final) {
  box.className = "msg assistant" + (final.declined ? " declined" : "");
  const answer = box.querySelector(".answer");
  answer.textContent = "";
  const byN = new Map(final.citations.map((c) => [c.n, c]));
  let passage = null;
  for (const part of final.answer.split(/(\[\d+\])/)) {
    const m = part.match(/^\[(\d+)\]$/);
    const cite = m && byN.get(Number(m[1]));
    if (!cite) { answer.append(part); continue; }
    const btn = el("button", "cite", `[${cite.n}]`);
    btn.type = "button";
    btn.title = cite.source;
    btn.setAttribute("aria-expanded", "false");
    btn.addEventListener("click", () => {
      const open = btn.getAttribute("aria-expanded") === "true";
      box.querySelectorAll("button.cite").forEach((b) => b.setAttribute("aria-expanded", "false"));
      if (passage) passage.remove();
      passage = null;
      if (open) return;
      btn.setAttribute("aria-expanded", "true");
      passage = el("div", "passage");
      passage.append(el("blockquote", "quote", `“${cite.quote}”`),
        el("div", "where", `[${cite.n}] ${cite.source} · characters ${cite.start}–${cite.end}`));
      box.append(passage);
    });
    answer.append(btn);
  }
  if (final.citations.length) {
    const list = el("ol", "sources");
    for (const c of final.citations) list.append(el("li", "", `${c.source} (characters ${c.start}–${c.end})`));
    box.insertBefore(list, answer.nextSibling);
  }
  const u = final.usage || {};
  box.append(el("div", "status", final.declined ? "declined: no passage supports an answer"
    : `${final.citations.length} citation(s) · ${u.completion_tokens ?? "?"} tokens`));
}

async function errorText(res) {
  let detail = res.statusText;
  try { detail = (await res.json()).detail || detail; } catch (_) { /* not JSON */ }
  if (typeof detail !== "string") detail = JSON.stringify(detail);
  if (res.status === 401) {
    keyBox.style.display = "block";
    keyBox.focus();
    return "This server needs an API key: type it in the box at the top, then ask again.";
  }
  const retry = res.headers.get("Retry-After");
  return `Error ${res.status}: ${detail}` + (retry ? ` (try again in ${retry} s)` : "");
}

async function ask(q) {
  bubble("user", q);
  const box = bubble("assistant", "searching…");
  box.classList.add("streaming");
  box.dataset.tokens = "0";
  const answer = box.querySelector(".answer");
  let streamed = "", final = null;
  const messages = [...history, { role: "user", content: q }];
  try {
    const res = await fetch("/v1/chat/completions", {
      method: "POST", headers: headers(), body: JSON.stringify({ messages, stream: true }),
    });
    if (!res.ok) { showError(box, await errorText(res)); return; }
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
      let cut;
      while ((cut = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        const data = block.split("\n").filter((l) => l.startsWith("data:"))
          .map((l) => l.slice(5).replace(/^ /, "")).join("\n");
        if (!data || data === "[DONE]") continue;  // comments (pings) and the end marker
        const obj = JSON.parse(data);
        if (obj.error) throw new Error(obj.error.message);
        const delta = obj.choices?.[0]?.delta?.content;
        if (delta) {
          streamed += delta;
          answer.textContent = streamed;
          box.dataset.tokens = String(Number(box.dataset.tokens) + 1);
        }
        if (obj.citations) final = obj;
      }
    }
    if (!final) throw new Error("the answer stopped before it was finished; ask again");
    showAnswer(box, final);
    history.push({ role: "user", content: q }, { role: "assistant", content: final.answer });
  } catch (err) {
    showError(box, "Error: " + (err.message || err));
  } finally {
    box.scrollIntoView({ block: "end" });
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const q = question.value.trim();
  if (!q) return;
  question.value = "";
  $("ask").disabled = true;
  try { await ask(q); } finally { $("ask").disabled = false; question.focus(); }
});
question.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
});
$("new").addEventListener("click", () => { history = []; log.textContent = ""; question.focus(); });
fetch("/readyz").then((r) => r.ok ? r.json() : null).then((r) => {
  if (r) $("model").textContent = `${r.model} · ${r.documents} document(s)`;
}).catch(() => {});
