// The feed page: four tabs over GET /api/feed, each page fetched with the cursor of the last one
// as the end of the list scrolls into view (docs/community.md "Pages").
const { api } = Kindred;
const list = document.getElementById("feed-posts");
const emptyBox = document.getElementById("feed-empty");
const errorBox = document.getElementById("feed-error");
const moreButton = document.getElementById("load-more");
const EMPTY = {
  for_you: "Nothing here yet. Like a few posts or characters and this fills up.",
  following: "No posts from the creators and characters you follow yet. Follow some from their pages.",
  new: "No posts yet. Share a moment from one of your chats!",
  trending: "Nothing is trending right now.",
};

// One load at a time per tab; a tab switch drops the pages of the tab left behind.
// After a failed load only the button tries again, so an error is not retried in a loop.
const state = { tab: initialTab(), cursor: null, done: false, loading: false, failed: false, generation: 0 };

document.querySelectorAll(".feed-tab").forEach((tab) => tab.addEventListener("click", () => {
  if (tab.dataset.tab === state.tab) return;
  selectTab(tab.dataset.tab);
  history.replaceState(null, "", tab.dataset.tab === "for_you" ? "/feed" : `/feed?tab=${tab.dataset.tab}`);
}));
moreButton.addEventListener("click", () => { state.failed = false; loadMore(); });

function initialTab() {
  const asked = new URLSearchParams(window.location.search).get("tab");
  return document.querySelector(`.feed-tab[data-tab="${asked}"]`) ? asked : "for_you";
}

function selectTab(tab) {
  Object.assign(state, { tab, cursor: null, done: false, loading: false, failed: false,
    generation: state.generation + 1 });
  document.querySelectorAll(".feed-tab").forEach((button) =>
    button.setAttribute("aria-selected", String(button.dataset.tab === tab)));
  list.replaceChildren();
  list.dataset.tab = tab;
  delete list.dataset.loaded;
  emptyBox.hidden = true;
  errorBox.hidden = true;
  loadMore();
}

async function loadMore() {
  if (state.loading || state.done || state.failed) return;
  state.loading = true;
  const generation = state.generation;
  const params = new URLSearchParams({ tab: state.tab });
  if (state.cursor) params.set("cursor", state.cursor);
  try {
    const { posts, next_cursor: next, picks } = await api("GET", `/api/feed?${params}`);
    if (generation !== state.generation) return;  // another tab was chosen meanwhile
    if (picks) drawPicks(picks);
    const shown = new Set([...list.children].map((item) => item.dataset.postId));
    list.append(...posts.filter((post) => !shown.has(String(post.id))).map((post) => KindredPosts.card(post)));
    state.cursor = next;
    state.done = !next;
    errorBox.hidden = true;
    moreButton.textContent = "Load more";
    list.dataset.loaded = String(list.children.length);
    emptyBox.textContent = EMPTY[state.tab];
    emptyBox.hidden = list.children.length > 0;
    moreButton.hidden = state.done;
  } catch (error) {
    if (generation !== state.generation) return;
    if (error.code === "cursor_expired" && state.cursor) {
      // The ranking this cursor walked is gone: rank again from the top; what is already on
      // the page is not shown twice.
      state.cursor = null;
      state.loading = false;
      loadMore();
      return;
    }
    state.failed = true;
    errorBox.textContent = `The feed could not be loaded: ${error.message}`;
    errorBox.hidden = false;
    moreButton.textContent = "Try again";
    moreButton.hidden = false;
  } finally {
    if (generation === state.generation) state.loading = false;
  }
  // A page shorter than the screen leaves the end in view: the observer fires only on changes.
  if (generation === state.generation && !state.done && nearTheEnd()) loadMore();
}

// Editors' picks come with a tab's first page (docs/curation.md): a strip above the posts.
function drawPicks(picks) {
  const strip = document.getElementById("feed-picks");
  strip.replaceChildren(...picks.map((pick) =>
    Kindred.el("a", { class: "feed-pick", href: pick.url, "data-pick-id": pick.id, "data-kind": pick.kind },
      Kindred.el("span", { class: "tag pick-label" }, pick.label), " ",
      Kindred.el("strong", {}, pick.title),
      pick.note ? Kindred.el("span", { class: "muted" }, ` · ${pick.note}`) : "")));
  strip.hidden = picks.length === 0;
}

function nearTheEnd() {
  return document.getElementById("feed-more").getBoundingClientRect().top < window.innerHeight + 400;
}

KindredPosts.whenVisible(document.getElementById("feed-more"), () => loadMore());
selectTab(state.tab);
