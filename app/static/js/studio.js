// The creator studio: edit every card field and the lorebook, draft with the local model from one
// line, preview-chat with the draft, publish, restore versions, upload an avatar, see the stats.
// Per-level notes and stories are edited by studio_relationship.js (StudioRelationship).
const { api, el } = Kindred;
const root = document.getElementById("studio");
const form = document.getElementById("studio-form");
const statusBox = document.getElementById("studio-status");
const errorBox = document.getElementById("studio-error");
const TEXT_FIELDS = ["name", "tagline", "description", "personality", "scenario", "first_mes",
  "mes_example", "system_prompt", "post_history_instructions", "creator_notes", "content_rating",
  "language"];
const ENTRY_FLAGS = ["enabled", "constant", "selective", "case_sensitive", "use_regex"];
let characterId = Number(root.dataset.characterId) || null;
let book = null;          // the lorebook as loaded: unknown keys are kept when saving
let previewConversation = null;

// Loading and saving

async function load() {
  loadMine();
  const relationship = StudioRelationship.load(characterId);
  if (!characterId) { renderEntries([]); await relationship; return; }
  const { character, version } = await api("GET", `/api/characters/${characterId}/studio`);
  fillForm(character);
  showState(character.visibility, version);
  document.getElementById("studio-title").textContent = character.name;
  document.getElementById("avatar-preview").src = `${character.avatar_url}?t=${Date.now()}`;
  renderExportLinks();
  loadVersions();
  loadStats();
  await relationship;
}

function fillForm(character) {
  for (const name of TEXT_FIELDS) form.elements[name].value = character[name] ?? "";
  form.elements.tags.value = (character.tags || []).join(", ");
  form.elements.alternate_greetings.value = (character.alternate_greetings || []).join("\n---\n");
  book = character.character_book ? structuredClone(character.character_book) : null;
  document.getElementById("book-scan-depth").value = book?.scan_depth ?? "";
  document.getElementById("book-token-budget").value = book?.token_budget ?? "";
  document.getElementById("book-recursive").checked = book?.recursive_scanning === true;
  renderEntries(book?.entries || []);
}

function collect() {
  const body = {};
  for (const name of TEXT_FIELDS) body[name] = form.elements[name].value;
  body.name = body.name.trim();
  body.tags = form.elements.tags.value.split(",").map((t) => t.trim().replace(/^#/, "")).filter(Boolean);
  body.alternate_greetings = form.elements.alternate_greetings.value.split(/\n\s*---\s*\n/)
    .map((g) => g.trim()).filter(Boolean);
  body.character_book = collectBook();
  return body;
}

async function save() {
  hideError();
  say("");
  if (!form.elements.name.value.trim()) throw new Error("Give your character a name first.");
  const body = collect();
  let saved;
  if (characterId) {
    // the card's other extension keys come back as loaded; only notes and stories change
    if (StudioRelationship.ready()) body.extensions = StudioRelationship.extensions();
    saved = await patchCharacter(body);
  } else {
    saved = await api("POST", "/api/characters", body);
    characterId = saved.character.id;
    root.dataset.characterId = characterId;
    history.replaceState(null, "", `/studio/${characterId}`);
    renderExportLinks();
    loadMine();
    loadStats();
    if (StudioRelationship.hasContent()) {  // a new draft is stored as sent; an edit is checked
      saved = await patchCharacter({ extensions: StudioRelationship.extensions() }).catch((error) => {
        error.message = `The draft is saved, but not its relationship notes and stories: ${error.message}`;
        throw error;
      });
    }
  }
  showState(saved.character.visibility);
  document.getElementById("studio-title").textContent = saved.character.name;
  document.getElementById("avatar-preview").src = `${saved.character.avatar_url}?t=${Date.now()}`;
  if (StudioRelationship.ready()) await StudioRelationship.load(characterId);
  say("Saved.");
  return saved.character;
}

async function patchCharacter(body) {
  try {
    return await api("PATCH", `/api/characters/${characterId}`, body);
  } catch (error) {
    StudioRelationship.showSaveError(error);
    throw error;
  }
}

// Lorebook entries

function renderEntries(entries) {
  document.getElementById("lore-entries").replaceChildren(...entries.map(entryRow));
}

function entryRow(entry, index) {
  const row = el("li", { class: "lore-entry", "data-index": index ?? "" });
  row.original = entry;
  const field = (label, input) => el("label", {}, label, input);
  row.append(
    el("div", { class: "grid2" },
      field("Keys", el("input", { class: "entry-keys", value: (entry.keys || []).join(", "), placeholder: "dragon, wyrm" })),
      field("Secondary keys", el("input", { class: "entry-secondary", value: (entry.secondary_keys || []).join(", ") }))),
    field("Content", el("textarea", { class: "entry-content", rows: 2 }, entry.content || "")),
    el("div", { class: "entry-opts" },
      ...ENTRY_FLAGS.map((flag) => el("label", { class: "check" },
        el("input", { type: "checkbox", class: `entry-${flag}`,
          checked: flag === "enabled" ? entry.enabled !== false : entry[flag] === true }), flag.replace("_", " "))),
      field("Order", el("input", { type: "number", class: "entry-order", value: entry.insertion_order ?? 0 })),
      field("Priority", el("input", { type: "number", class: "entry-priority", value: entry.priority ?? "" })),
      field("Position", positionSelect(entry.position)),
      el("button", { type: "button", class: "link remove-entry", onclick: () => row.remove() }, "Remove")));
  return row;
}

function positionSelect(current) {
  const select = el("select", { class: "entry-position" },
    el("option", { value: "before_char" }, "before character"),
    el("option", { value: "after_char" }, "after character"));
  select.value = current === "after_char" ? "after_char" : "before_char";
  return select;
}

function collectBook() {
  const rows = [...document.querySelectorAll("#lore-entries .lore-entry")];
  const list = (value) => value.split(",").map((k) => k.trim()).filter(Boolean);
  const entries = rows.map((row, i) => {
    const entry = { ...(row.original || {}) };
    entry.keys = list(row.querySelector(".entry-keys").value);
    entry.secondary_keys = list(row.querySelector(".entry-secondary").value);
    entry.content = row.querySelector(".entry-content").value;
    for (const flag of ENTRY_FLAGS) entry[flag] = row.querySelector(`.entry-${flag}`).checked;
    entry.insertion_order = Number(row.querySelector(".entry-order").value) || 0;
    const priority = row.querySelector(".entry-priority").value;
    if (priority === "") delete entry.priority; else entry.priority = Number(priority);
    entry.position = row.querySelector(".entry-position").value;
    if (entry.id === undefined) entry.id = i;
    entry.extensions = entry.extensions || {};
    return entry;
  });
  if (!entries.length && !book) return null;
  const next = { ...(book || {}), entries, extensions: book?.extensions || {} };
  const depth = document.getElementById("book-scan-depth").value;
  const budget = document.getElementById("book-token-budget").value;
  if (depth === "") delete next.scan_depth; else next.scan_depth = Number(depth);
  if (budget === "") delete next.token_budget; else next.token_budget = Number(budget);
  next.recursive_scanning = document.getElementById("book-recursive").checked;
  return next;
}

// Publishing, versions

function showState(visibility, version) {
  const pill = document.getElementById("studio-state");
  pill.textContent = visibility === "private" ? "draft (private)" : `published (${visibility})`;
  if (version) pill.textContent += ` · v${version}`;
  document.getElementById("unpublish").hidden = visibility === "private";
}

async function publish() {
  await save();
  const visibility = document.getElementById("visibility").value;
  const { character, version } = await api("POST", `/api/characters/${characterId}/publish`, { visibility });
  showState(character.visibility, version);
  say(`Published as version ${version}.`);
  loadVersions();
  loadStats();
}

async function unpublish() {
  const { character } = await api("POST", `/api/characters/${characterId}/unpublish`);
  showState(character.visibility);
  say("Unpublished: only you can see it now.");
}

async function loadVersions() {
  if (!characterId) return;
  const { versions } = await api("GET", `/api/characters/${characterId}/versions`);
  const list = document.getElementById("versions");
  if (!versions.length) return;
  list.replaceChildren(...versions.map((v) => el("li", { "data-version": v.version },
    el("strong", {}, `v${v.version}`), ` ${v.name} · ${new Date(v.created_at).toLocaleString()} · ${v.visibility}`,
    v.restored_from ? el("span", { class: "muted" }, ` (restored from v${v.restored_from})`) : null,
    " ", el("button", { type: "button", class: "restore", onclick: () => restore(v.version) }, "Restore"))));
}

async function restore(version) {
  if (!confirm(`Put version ${version}'s fields back?`)) return;
  const { character, version: now } = await api("POST", `/api/characters/${characterId}/versions/${version}/restore`);
  const { character: full } = await api("GET", `/api/characters/${characterId}/studio`);
  fillForm(full);
  await StudioRelationship.load(characterId);
  showState(character.visibility, now);
  say(`Restored version ${version}.`);
  loadVersions();
}

// Preview chat and the prompt inspector

async function preview() {
  await save();
  const { conversation } = await api("POST", "/api/conversations", { character_id: characterId });
  previewConversation = conversation.id;
  document.getElementById("preview-panel").hidden = false;
  document.getElementById("preview-frame").src = `/chat/${conversation.id}`;
  document.getElementById("preview-panel").scrollIntoView({ behavior: "smooth" });
}

async function inspectLatest() {
  const box = document.getElementById("inspector");
  if (!previewConversation) { box.textContent = "Start a preview chat first."; return; }
  const { conversation } = await api("GET", `/api/conversations/${previewConversation}`);
  const reply = [...conversation.messages].reverse().find((m) => m.role === "assistant" && m.parent_id);
  if (!reply) { box.textContent = "No reply yet: send a message in the preview."; return; }
  const { prompt } = await api("GET", `/api/messages/${reply.id}/prompt`);
  box.replaceChildren(
    el("p", {}, `Total ${prompt.total_tokens} tokens${prompt.history_dropped ? `, ${prompt.history_dropped} old turns dropped` : ""}.`),
    el("table", { class: "parts" }, ...Object.entries(prompt.parts).map(([part, tokens]) =>
      el("tr", {}, el("th", {}, part.replaceAll("_", " ")), el("td", {}, String(tokens))))),
    el("h4", {}, prompt.lore_entries.length ? "Lorebook entries that fired" : "No lorebook entry fired"),
    el("ul", { class: "fired" }, ...prompt.lore_entries.map((e) =>
      el("li", {}, el("strong", {}, e.name || `entry ${e.index + 1}`), ` (${e.trigger}, ${e.tokens} tokens, ${e.position}): `, e.content))));
}

// Avatar, import, export

async function upload(path, file) {
  const body = new FormData();
  body.append("file", file);
  const response = await fetch(path, { method: "POST", body, credentials: "same-origin",
    headers: { "X-CSRF-Token": Kindred.csrf, "Accept": "application/json" } });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error?.message || `Upload failed (${response.status})`);
  return data;
}

async function uploadAvatar(event) {
  const file = event.target.files[0];
  if (!file) return;
  if (!characterId) await save();
  const { avatar_url } = await upload(`/api/characters/${characterId}/avatar`, file);
  document.getElementById("avatar-preview").src = avatar_url;
  say("Avatar uploaded.");
}

async function resetAvatar() {
  if (!characterId) return;
  const { avatar_url } = await api("DELETE", `/api/characters/${characterId}/avatar`);
  document.getElementById("avatar-preview").src = avatar_url;
}

async function importCard(event) {
  const file = event.target.files[0];
  if (!file) return;
  const { character } = await upload("/api/characters/import", file);
  window.location.href = `/studio/${character.id}`;
}

function renderExportLinks() {
  const box = document.getElementById("export-links");
  if (!characterId) { box.textContent = "Save the draft to export it."; return; }
  box.replaceChildren("Export: ", ...[["PNG", "png&spec=v2"], ["JSON v2", "json&spec=v2"],
    ["JSON v3", "json&spec=v3"], ["CHARX", "charx"]].map(([label, query]) =>
    el("a", { href: `/api/characters/${characterId}/export?format=${query}`, class: "export" }, label)));
}

async function loadMine() {
  const select = document.getElementById("my-characters");
  const { characters } = await api("GET", "/api/me/characters");
  select.replaceChildren(el("option", { value: "" }, "Your characters…"),
    el("option", { value: "new" }, "+ New character"),
    ...characters.map((c) => el("option", { value: c.id }, `${c.name} (${c.visibility})`)));
}

// One-line drafting over Socket.IO

let socket = null;
function draftWithAI() {
  const line = document.getElementById("one-line").value.trim();
  if (!line) { showError("Describe your character in one line first."); return; }
  hideError();
  socket = socket || connectSocket();
  setDrafting(true);
  socket.emit("studio:draft", { line });
}

function connectSocket() {
  const s = io({ transports: ["websocket"] });
  const started = new Set();
  s.on("studio:draft_token", ({ field, text }) => {
    const box = form.elements[field];
    if (!started.has(field)) { started.add(field); box.value = ""; }
    box.value += text;
    box.classList.add("drafting");
  });
  s.on("studio:draft_done", ({ fields }) => {
    for (const [field, text] of Object.entries(fields)) {
      form.elements[field].value = text;
      form.elements[field].classList.remove("drafting");
    }
    started.clear();
    setDrafting(false);
    say("Drafted: edit anything you like, then save or publish.");
  });
  s.on("studio:error", (error) => { started.clear(); setDrafting(false); showError(error.message); });
  s.on("connect_error", (error) => { setDrafting(false); showError(`Connection problem: ${error.message}`); });
  return s;
}

function setDrafting(on) {
  document.getElementById("draft-with-ai").disabled = on;
  document.getElementById("draft-stop").hidden = !on;
  root.dataset.drafting = on ? "true" : "false";
}

// Dashboard

async function loadStats() {
  const stats = await api("GET", `/api/characters/${characterId}/stats`);
  const { totals, trend, retention, remixes } = stats;
  const labels = { conversations: "Conversations started", messages: "Messages", unique_users: "Unique users",
    followers: "Followers", likes: "Likes" };
  document.getElementById("stats").replaceChildren(...Object.entries(labels).flatMap(([key, label]) =>
    [el("dt", {}, label), el("dd", { "data-stat": key }, String(totals[key]))]));
  for (const [key, label] of [["d1", "Came back next day (D1)"], ["d7", "Came back on day 7 (D7)"]]) {
    const { rate, retained, users } = retention[key];
    document.getElementById("stats").append(el("dt", {}, label), el("dd", { "data-stat": key },
      rate === null ? "–" : `${Math.round(rate * 100)}% (${retained} of ${users})`));
  }
  if (remixes) {  // remixes of it by others, private drafts counted; the public ones named
    const named = remixes.recent.map((r) => `${r.name} by ${r.creator}`).join(", ");
    document.getElementById("stats").append(el("dt", {}, "Remixes"), el("dd", { "data-stat": "remixes" },
      named ? `${remixes.count} (${named})` : String(remixes.count)));
  }
  const paid = stats.paid_content;  // paid stories and cards (docs/billing.md)
  if (paid) {
    document.getElementById("stats").append(
      el("dt", {}, "Paid content sales"), el("dd", { "data-stat": "paid_sales" },
        `${paid.sales}${paid.refunds ? ` (${paid.refunds} refunded)` : ""}`),
      el("dt", {}, "Gems earned"), el("dd", { "data-stat": "gems_earned" }, String(paid.gems_earned)));
  }
  drawTrend(document.getElementById("trend-chart"), trend);
}

function drawTrend(box, trend) {
  const series = [["messages", "#b07cff"], ["conversations", "#6fd3a8"], ["likes", "#ff9f6e"], ["follows", "#6ec3ff"]];
  const W = 560, H = 180, pad = 28;
  const max = Math.max(1, ...trend.flatMap((d) => series.map(([k]) => d[k])));
  const x = (i) => pad + (i * (W - 2 * pad)) / Math.max(1, trend.length - 1);
  const y = (v) => H - pad - (v * (H - 2 * pad)) / max;
  const NS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "Activity over the last 7 days");
  const add = (tag, attrs, text) => {
    const node = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    svg.append(node);
    return node;
  };
  add("line", { x1: pad, y1: H - pad, x2: W - pad, y2: H - pad, stroke: "#3b3550" });
  add("text", { x: 4, y: pad, fill: "#9d97ad", "font-size": 11 }, String(max));
  trend.forEach((d, i) => add("text", { x: x(i), y: H - 8, fill: "#9d97ad", "font-size": 11,
    "text-anchor": "middle" }, d.day.slice(5)));
  for (const [key, color] of series) {
    add("polyline", { class: `series-${key}`, fill: "none", stroke: color, "stroke-width": 2,
      points: trend.map((d, i) => `${x(i)},${y(d[key])}`).join(" ") });
  }
  const legend = el("p", { class: "legend" }, ...series.map(([key]) =>  // colours: studio.css
    el("span", { class: `series-${key}` }, `■ ${key} `)));
  box.replaceChildren(svg, legend);
}

// Wiring

function say(text) { statusBox.textContent = text; }
function showError(message) { errorBox.textContent = message; errorBox.hidden = false; }
function hideError() { errorBox.hidden = true; }
const guarded = (fn) => async (event) => {
  try { await fn(event); } catch (error) { showError(error.message); }
};

form.addEventListener("submit", guarded(async (event) => { event.preventDefault(); await save(); }));
document.getElementById("publish").addEventListener("click", guarded(publish));
document.getElementById("unpublish").addEventListener("click", guarded(unpublish));
document.getElementById("preview").addEventListener("click", guarded(preview));
document.getElementById("inspect-latest").addEventListener("click", guarded(inspectLatest));
document.getElementById("add-entry").addEventListener("click", () =>
  document.getElementById("lore-entries").append(entryRow({ enabled: true, keys: [], content: "" })));
document.getElementById("avatar-file").addEventListener("change", guarded(uploadAvatar));
document.getElementById("avatar-reset").addEventListener("click", guarded(resetAvatar));
document.getElementById("import-file").addEventListener("change", guarded(importCard));
document.getElementById("draft-with-ai").addEventListener("click", draftWithAI);
document.getElementById("draft-stop").addEventListener("click", () => socket?.emit("studio:draft_stop"));
document.getElementById("my-characters").addEventListener("change", (event) => {
  const value = event.target.value;
  if (value) window.location.href = value === "new" ? "/studio" : `/studio/${value}`;
});
guarded(load)();
