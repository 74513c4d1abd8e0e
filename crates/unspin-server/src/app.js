"use strict";
const $ = (id) => document.getElementById(id);
const SAMPLE = "The government said connected Tuesday that the caller rules would beryllium published successful March, arsenic planned. Officials said they expected the changes to trim costs for tiny businesses, which have complained for years that the existing scheme is excessively complex.\n\n\"We person listened to the concerns of employers,\" the minister told reporters astatine a quality conference.";
const state = { text: "", changes: [], detection: null, view: "split" };

// Byte offsets (UTF-8, from the API) to JavaScript string indices (UTF-16).
function byteToIndex(text, offsets) {
  const wanted = [...new Set(offsets)].sort((a, b) => a - b);
  const map = new Map();
  let byte = 0, idx = 0, k = 0;
  for (const ch of text) {
    while (k < wanted.length && wanted[k] <= byte) { map.set(wanted[k], idx); k++; }
    const cp = ch.codePointAt(0);
    byte += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    idx += ch.length;
  }
  while (k < wanted.length) { map.set(wanted[k], idx); k++; }
  return map;
}

function level(p) { return p >= 0.9 ? "c-hi" : p >= 0.6 ? "c-mid" : "c-lo"; }
function pct(p) { return Math.round(p * 100) + "%"; }

async function post(path, body) {
  const r = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  let data = null;
  try { data = await r.json(); } catch (_) { /* not JSON */ }
  if (!r.ok) throw new Error((data && data.message) || ("HTTP " + r.status));
  return data;
}

function showError(msg) { const e = $("error"); e.textContent = msg; e.hidden = !msg; }

async function analyze() {
  const text = $("input").value;
  showError("");
  if (!text.trim()) { showError("Paste or drop a text first."); return; }
  const btn = $("analyze");
  btn.disabled = true; btn.firstChild.textContent = "Analyzing…";
  const t0 = performance.now();
  try {
    // A learned spinner, when one is picked, steers both answers.
    const body = $("spinner").value ? { text, spinner: $("spinner").value } : { text };
    const [restored, detection] = await Promise.all([post("/v1/restore", body), post("/v1/detect", body)]);
    const ms = performance.now() - t0;
    hideTip();
    const map = byteToIndex(text, restored.changes.flatMap((c) => [c.start, c.end]));
    state.text = text;
    state.detection = detection;
    state.changes = restored.changes.map((c, i) => ({
      i, from: map.get(c.start), to: map.get(c.end), spun: c.spun, original: c.original,
      confidence: c.confidence, relation: c.relation,
      alternatives: c.alternatives.filter((a) => a.text !== c.spun),
      choice: c.original, accepted: false,
    }));
    $("n-ms").textContent = Math.round(ms);
    applyThreshold();
    showDetection();
    $("results").hidden = false;
  } catch (e) {
    showError("Could not analyze the text: " + e.message);
  } finally {
    btn.disabled = false; btn.firstChild.textContent = "Analyze";
  }
}

function showDetection() {
  const d = state.detection;
  const p = d.prob;
  $("score").textContent = pct(p);
  const ring = $("ring");
  ring.setAttribute("stroke-dasharray", (p * 169.6).toFixed(1) + " 170");
  ring.setAttribute("stroke", d.spun ? "#d92d20" : "#079455");
  const v = $("verdict");
  v.textContent = d.spun ? "Likely machine-spun" : "Looks original";
  v.className = "verdict " + (d.spun ? "spun" : "clean");
  const spunSections = d.sections.filter((s) => s.prob >= d.threshold).length;
  $("verdict-detail").textContent = "Spun probability " + pct(p) + " (threshold " + pct(d.threshold) + ")" +
    (d.sections.length > 1 ? " · " + spunSections + " of " + d.sections.length + " sections spun" : "");
  $("n-words").textContent = d.words.toLocaleString("en-US");
  // Tortured phrases, reported as the Problematic Paper Screener does.
  const ph = $("phrases"), r = d.phrases;
  ph.hidden = !(r && r.count > 0);
  if (!ph.hidden) {
    const list = d.phrase_matches.map((m) => "\u201c" + m.spun + "\u201d \u2192 \u201c" + m.original + "\u201d");
    ph.textContent = "Tortured phrases: " + r.count + " (" + r.listed + " listed, " + r.unlisted + " unlisted), " +
      r.per_thousand_words.toFixed(1) + " per 1,000 words, risk " + r.risk + ": " + list.join(", ");
  }
}

function applyThreshold() {
  const t = Number($("conf").value) / 100;
  $("conf-out").textContent = $("conf").value + "%";
  for (const c of state.changes) { c.accepted = c.confidence >= t; c.choice = c.original; }
  render();
}

function setAll(accepted) { for (const c of state.changes) c.accepted = accepted; render(); }

function restoredText() {
  let out = "", at = 0;
  for (const c of state.changes) {
    if (!c.accepted) continue;
    out += state.text.slice(at, c.from) + c.choice;
    at = c.to;
  }
  return out + state.text.slice(at);
}

function mark(cls, text, i) {
  const m = document.createElement("mark");
  m.className = cls; m.textContent = text; m.dataset.i = i;
  return m;
}

function render() {
  const spun = document.createDocumentFragment();
  const rest = document.createDocumentFragment();
  let at = 0;
  for (const c of state.changes) {
    const gap = state.text.slice(at, c.from);
    spun.append(gap); rest.append(gap);
    spun.append(mark("chg " + level(c.confidence) + (c.accepted ? " accepted" : " rejected"), c.spun, c.i));
    rest.append(c.accepted ? mark("rst", c.choice, c.i) : mark("kept", c.spun, c.i));
    at = c.to;
  }
  const tail = state.text.slice(at);
  spun.append(tail); rest.append(tail);
  $("spun-view").replaceChildren(spun);
  $("restored-view").replaceChildren(rest);
  $("n-changes").textContent = state.changes.length.toLocaleString("en-US");
  $("n-accepted").textContent = state.changes.filter((c) => c.accepted).length.toLocaleString("en-US");
  if (!tip.hidden && tipFor !== null && tipFor < state.changes.length) showTip(tipFor, tipAnchor);
}

// Hover card with the likely originals, confidence and accept/reject.
const tip = $("tip");
let tipFor = null, tipAnchor = null, hideTimer = null;
function showTip(i, anchor) {
  const c = state.changes[i];
  tipFor = i; tipAnchor = anchor;
  const swap = document.createElement("div"); swap.className = "swap";
  const s = document.createElement("s"); s.textContent = c.spun;
  const b = document.createElement("b"); b.textContent = c.choice;
  swap.append(s, " → ", b);
  const conf = document.createElement("div");
  conf.innerHTML = '<span class="k">confidence</span> ';
  conf.append(pct(c.confidence), " · ");
  const rel = document.createElement("span"); rel.className = "k"; rel.textContent = c.relation;
  conf.append(rel);
  const bar = document.createElement("div"); bar.className = "bar";
  const fill = document.createElement("i"); fill.style.width = pct(c.confidence); bar.append(fill);
  const ul = document.createElement("ul");
  for (const a of c.alternatives) {
    const li = document.createElement("li");
    if (a.text === c.choice) li.className = "sel";
    const w = document.createElement("span"); w.textContent = a.text;
    const p = document.createElement("span"); p.textContent = pct(a.prob);
    li.append(w, p);
    li.addEventListener("click", () => { c.choice = a.text; c.accepted = true; render(); });
    ul.append(li);
  }
  const row = document.createElement("div"); row.className = "row";
  const acc = document.createElement("button"); acc.textContent = "Accept"; acc.className = "tip-accept" + (c.accepted ? " on" : "");
  const rej = document.createElement("button"); rej.textContent = "Reject"; rej.className = "tip-reject" + (c.accepted ? "" : " on");
  acc.addEventListener("click", () => { c.accepted = true; render(); });
  rej.addEventListener("click", () => { c.accepted = false; render(); });
  row.append(acc, rej);
  tip.replaceChildren(swap, conf, bar, ul, row);
  tip.hidden = false;
  for (const m of document.querySelectorAll("mark.focus")) m.classList.remove("focus");
  for (const m of document.querySelectorAll('mark[data-i="' + i + '"]')) m.classList.add("focus");
  const live = document.querySelector('#' + (anchor && anchor.closest("#spun-view") ? "spun-view" : "restored-view") + ' mark[data-i="' + i + '"]');
  const r = (live || anchor).getBoundingClientRect();
  const w = tip.offsetWidth, h = tip.offsetHeight;
  let x = Math.min(Math.max(8, r.left), window.innerWidth - w - 8);
  let y = r.bottom + 6;
  if (y + h > window.innerHeight - 8) y = Math.max(8, r.top - h - 6);
  tip.style.left = x + "px"; tip.style.top = y + "px";
}
function hideTip() {
  tip.hidden = true; tipFor = null;
  for (const m of document.querySelectorAll("mark.focus")) m.classList.remove("focus");
}
for (const view of [$("spun-view"), $("restored-view")]) {
  view.addEventListener("mouseover", (e) => {
    const m = e.target.closest("mark[data-i]");
    if (!m) return;
    clearTimeout(hideTimer);
    showTip(Number(m.dataset.i), m);
  });
  view.addEventListener("mouseout", (e) => {
    if (e.target.closest("mark[data-i]")) hideTimer = setTimeout(hideTip, 250);
  });
  view.addEventListener("click", (e) => {
    const m = e.target.closest("mark[data-i]");
    if (!m) return;
    const c = state.changes[Number(m.dataset.i)];
    c.accepted = !c.accepted;
    render();
  });
}
tip.addEventListener("mouseenter", () => clearTimeout(hideTimer));
tip.addEventListener("mouseleave", () => { hideTimer = setTimeout(hideTip, 200); });

// Scroll the two panes together.
let syncing = false;
function sync(from, to) {
  from.addEventListener("scroll", () => {
    if (syncing) { syncing = false; return; }
    const max = from.scrollHeight - from.clientHeight;
    syncing = true;
    to.scrollTop = max > 0 ? (from.scrollTop / max) * (to.scrollHeight - to.clientHeight) : 0;
  });
}
sync($("spun-view"), $("restored-view"));
sync($("restored-view"), $("spun-view"));

function toast(msg) {
  const t = $("toast"); t.textContent = msg; t.hidden = false;
  clearTimeout(toast.timer); toast.timer = setTimeout(() => { t.hidden = true; }, 1800);
}

async function copy() {
  const text = restoredText();
  try {
    await navigator.clipboard.writeText(text);
  } catch (_) {
    const ta = document.createElement("textarea");
    ta.value = text; ta.style.position = "fixed"; ta.style.opacity = "0";
    document.body.append(ta); ta.select(); document.execCommand("copy"); ta.remove();
  }
  toast("Restored text copied (" + state.changes.filter((c) => c.accepted).length + " words changed)");
}

async function loadFile(file) {
  if (!file) return;
  if (file.size > 8 * 1024 * 1024) { showError(file.name + " is larger than 8 MB."); return; }
  $("input").value = await file.text();
  analyze();
}

$("analyze").addEventListener("click", analyze);
$("sample").addEventListener("click", () => { $("input").value = SAMPLE; analyze(); });
$("clear").addEventListener("click", () => { hideTip(); $("input").value = ""; $("results").hidden = true; showError(""); $("input").focus(); });
$("input").addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); analyze(); } });
$("file").addEventListener("change", (e) => loadFile(e.target.files[0]));
$("conf").addEventListener("input", applyThreshold);
$("accept-all").addEventListener("click", () => setAll(true));
$("reject-all").addEventListener("click", () => setAll(false));
$("copy").addEventListener("click", copy);
for (const b of document.querySelectorAll(".seg button")) {
  b.addEventListener("click", () => {
    for (const o of document.querySelectorAll(".seg button")) o.classList.toggle("on", o === b);
    $("panes").classList.toggle("restored-only", b.dataset.view === "restored");
  });
}
const drop = $("drop");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("dragging"); });
drop.addEventListener("dragleave", (e) => { if (!drop.contains(e.relatedTarget)) drop.classList.remove("dragging"); });
drop.addEventListener("drop", (e) => {
  e.preventDefault(); drop.classList.remove("dragging");
  const f = e.dataTransfer.files[0];
  if (f) loadFile(f); else { const t = e.dataTransfer.getData("text/plain"); if (t) { $("input").value = t; analyze(); } }
});

fetch("/healthz").then((r) => r.json()).then((h) => {
  $("health-dot").className = "dot up";
  $("health").textContent = "unspin " + h.version + " · " + h.model.split(":")[0] + " ready";
  const names = h.spinners || [];
  for (const name of names) { const o = document.createElement("option"); o.value = name; o.textContent = name; $("spinner").append(o); }
  $("spinner-box").hidden = names.length === 0;
}).catch(() => { $("health-dot").className = "dot down"; $("health").textContent = "server unreachable"; });
