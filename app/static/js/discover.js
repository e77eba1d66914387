// The discovery deck: onboarding interest picker, a stack of cards swiped by touch or mouse drag
// (pointer events) or arrow keys, undo. The server decides what is dealt; the page shows it.
const { api, el } = Kindred;

// A small hand, refilled after every swipe: the card dealt next is chosen knowing the swipe just
// made (with a hand of 10, the next 8 cards were chosen before it). bench/discovery_eval.py drives
// the deck the same way.
const DEAL_SIZE = 3;
const REFILL_BELOW = 3;
const SWIPE_DISTANCE = 110; // px of drag that counts as a swipe
const VISIBLE = 3;

const state = { cards: [], busy: false, filters: {}, chosen: new Set() };
const $ = (id) => document.getElementById(id);

async function start() {
  const [interests, prefs] = await Promise.all([
    api("GET", "/api/me/interests"), api("GET", "/api/me/discovery")]);
  $("show-mature").checked = prefs.show_mature;
  if (!interests.onboarded) showOnboarding(interests.suggested_tags, interests.tags);
  else await showDeck();
}

// -- onboarding -------------------------------------------------------------------------------

function showOnboarding(suggested, current) {
  state.chosen = new Set(current);
  $("interest-chips").replaceChildren(...suggested.map((tag) => {
    const chip = el("button", { type: "button", class: "interest-chip", "data-tag": tag,
                                "aria-pressed": String(state.chosen.has(tag)) }, `#${tag}`);
    chip.addEventListener("click", () => {
      if (state.chosen.has(tag)) state.chosen.delete(tag); else state.chosen.add(tag);
      chip.setAttribute("aria-pressed", String(state.chosen.has(tag)));
    });
    return chip;
  }));
  $("onboarding").hidden = false;
  $("deck-area").hidden = true;
}

async function finishOnboarding(tags) {
  await api("PUT", "/api/me/interests", { tags });
  $("onboarding").hidden = true;
  await showDeck();
}

// -- the deck ---------------------------------------------------------------------------------

async function showDeck() {
  $("deck-area").hidden = false;
  await loadDeck();
}

async function loadDeck() {
  const params = new URLSearchParams({ n: String(DEAL_SIZE), ...state.filters });
  try {
    const { cards } = await api("GET", `/api/deck?${params}`);
    state.cards = cards; // the server returns still-open cards first, so this is the whole stack
    render();
  } catch (error) {
    status(error.message, true);
  }
}

function render() {
  const deck = $("deck");
  const shown = state.cards.slice(0, VISIBLE);
  deck.replaceChildren(...shown.map((card, i) => cardElement(card, i)).reverse());
  $("deck-empty").hidden = state.cards.length > 0;
  for (const id of ["pass", "like", "superlike"]) $(id).disabled = state.cards.length === 0;
  const top = deck.querySelector(".swipe-card.top");
  if (top) enableDrag(top);
}

function cardElement(card, depth) {
  const node = el("article", {
      class: `swipe-card${depth === 0 ? " top" : ""}`, "data-character-id": card.character_id,
      "aria-hidden": depth === 0 ? null : "true" },
    el("span", { class: "stamp like" }, "LIKE"),
    el("span", { class: "stamp pass" }, "PASS"),
    el("span", { class: "stamp super" }, "SUPER"),
    el("img", { class: "card-avatar", src: card.avatar_url, alt: "", draggable: "false" }),
    el("div", { class: "card-body" },
      el("p", { class: "reason" }, card.reason),
      el("h2", { class: "card-name" }, card.name),
      el("p", { class: "card-tagline" }, card.tagline),
      el("p", { class: "card-tags" }, ...card.tags.map((t) => el("span", { class: "tag" }, `#${t}`))),
      el("blockquote", { class: "greeting-preview" }, card.greeting_preview)));
  node.style.setProperty("--depth", depth);  // through the CSSOM: the CSP forbids style=""
  return node;
}

async function swipe(direction) {
  const card = state.cards[0];
  if (!card || state.busy) return;
  state.busy = true;
  const node = $("deck").querySelector(".swipe-card.top");
  if (node) node.classList.add(`fly-${direction}`);
  try {
    const result = await api("POST", "/api/swipes", { character_id: card.character_id, direction });
    state.cards.shift();
    if (direction === "up" && result.conversation_id) {
      window.location.href = `/chat/${result.conversation_id}`;
      return;
    }
    if (direction === "right") likedStatus(card);
    else status(`Passed on ${card.name}.`);
    render();
    if (state.cards.length < REFILL_BELOW) await loadDeck();
  } catch (error) {
    if (node) node.classList.remove(`fly-${direction}`);
    status(error.message, true);
    if (error.status === 409) await loadDeck(); // the stack was stale: take the server's
  } finally {
    state.busy = false;
  }
}

async function undo() {
  if (state.busy) return;
  state.busy = true;
  try {
    const { card } = await api("POST", "/api/swipes/undo");
    state.cards = [card, ...state.cards.filter((c) => c.character_id !== card.character_id)];
    status(`Undid your swipe on ${card.name}.`);
    render();
  } catch (error) {
    status(error.message, true);
  } finally {
    state.busy = false;
  }
}

function likedStatus(card) {
  const chat = el("button", { type: "button", class: "link start-chat" }, "Start chat");
  chat.addEventListener("click", async () => {
    const { conversation } = await api("POST", "/api/conversations", { character_id: card.character_id });
    window.location.href = `/chat/${conversation.id}`;
  });
  $("swipe-status").replaceChildren(`You liked ${card.name}. `, chat);
  $("swipe-status").classList.remove("error");
}

function status(text, isError = false) {
  $("swipe-status").textContent = text;
  $("swipe-status").classList.toggle("error", isError);
}

// -- input: pointer drag (mouse and touch), keys, buttons -------------------------------------

function enableDrag(node) {
  let startX = 0, startY = 0, dx = 0, dy = 0, dragging = false;
  node.addEventListener("pointerdown", (event) => {
    if (state.busy || event.button > 0) return;
    dragging = true; startX = event.clientX; startY = event.clientY; dx = dy = 0;
    node.setPointerCapture(event.pointerId);
    node.classList.add("dragging");
  });
  node.addEventListener("pointermove", (event) => {
    if (!dragging) return;
    dx = event.clientX - startX; dy = event.clientY - startY;
    node.style.transform = `translate(${dx}px, ${dy}px) rotate(${dx / 18}deg)`;
    const d = dragDirection(dx, dy);
    node.dataset.leaning = d || "";
  });
  const end = () => {
    if (!dragging) return;
    dragging = false;
    node.classList.remove("dragging");
    const direction = dragDirection(dx, dy);
    node.style.transform = "";
    node.dataset.leaning = "";
    if (direction) swipe(direction);
  };
  node.addEventListener("pointerup", end);
  node.addEventListener("pointercancel", () => { dx = dy = 0; end(); });
}

function dragDirection(dx, dy) {
  if (-dy > SWIPE_DISTANCE && -dy > Math.abs(dx)) return "up";
  if (dx > SWIPE_DISTANCE) return "right";
  if (dx < -SWIPE_DISTANCE) return "left";
  return null;
}

document.addEventListener("keydown", (event) => {
  if ($("deck-area").hidden || event.target.closest("input, textarea, select")) return;
  const direction = { ArrowLeft: "left", ArrowRight: "right", ArrowUp: "up" }[event.key];
  if (direction) { event.preventDefault(); swipe(direction); }
  else if (event.key === "Backspace" || (event.key === "z" && (event.ctrlKey || event.metaKey))) {
    event.preventDefault(); undo();
  }
});

$("pass").addEventListener("click", () => swipe("left"));
$("like").addEventListener("click", () => swipe("right"));
$("superlike").addEventListener("click", () => swipe("up"));
$("undo").addEventListener("click", undo);
$("onboarding-done").addEventListener("click", () => finishOnboarding([...state.chosen]));
$("onboarding-skip").addEventListener("click", () => finishOnboarding([]));

$("filters-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  state.filters = {};
  for (const key of ["tags", "exclude_tags", "lang"]) {
    const value = String(form.get(key) || "").trim();
    if (value) state.filters[key] = value;
  }
  try {
    await api("PUT", "/api/me/discovery", { show_mature: $("show-mature").checked });
    $("deck-filters").open = false;
    await loadDeck();
  } catch (error) {
    status(error.message, true);
  }
});

start().catch((error) => status(error.message, true));
