// Search, tag pages, trending and creator profiles: character cards with like/follow buttons.
const { api, el } = Kindred;
const signedIn = Boolean(Kindred.csrf);

function characterCard(c) {
  const card = el("article", { class: "character-card", "data-character-id": c.id },
    el("img", { class: "avatar", src: c.avatar_url, alt: "" }),
    el("h3", {}, c.name),
    el("p", { class: "tagline" }, c.tagline),
    el("p", { class: "tags" }, ...c.tags.map((t) =>
      el("a", { class: "tag", href: `/tags/${encodeURIComponent(t.toLowerCase())}` }, `#${t}`))));
  if (signedIn) {
    const social = el("div", { class: "social" });
    card.append(social, el("button", { class: "primary start-chat", onclick: () => startChat(c.id) }, "Chat"));
    loadMarks(c.id, social);
  }
  return card;
}

async function loadMarks(id, box) {
  const marks = await api("GET", `/api/characters/${id}/engagement`);
  const render = (m) => box.replaceChildren(
    toggle(`♥ ${m.likes}`, m.liked, "like"), toggle(`Follow · ${m.followers}`, m.following, "follow"));
  const toggle = (label, on, kind) => el("button", { type: "button", class: kind, "aria-pressed": String(on),
    onclick: async () => render(await api(on ? "DELETE" : "POST", `/api/characters/${id}/${kind}`)) }, label);
  render(marks);
}

async function startChat(characterId) {
  const { conversation } = await api("POST", "/api/conversations", { character_id: characterId });
  window.location.href = `/chat/${conversation.id}`;
}

async function runSearch(page) {
  const q = document.getElementById("search-q").value.trim();
  const tag = page.dataset.tag;
  const status = document.getElementById("search-status");
  const box = document.getElementById("search-results");
  if (!q && !tag) { box.replaceChildren(); status.textContent = ""; return; }
  const params = new URLSearchParams();
  if (q) params.set("q", q);
  if (tag) params.set("tag", tag);
  try {
    const { results } = await api("GET", `/api/search?${params}`);
    status.textContent = results.length ? `${results.length} found` : "Nothing found.";
    box.replaceChildren(...results.map(characterCard));
  } catch (error) {
    status.textContent = error.message;
  }
}

async function initSearch(page) {
  document.getElementById("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const q = document.getElementById("search-q").value.trim();
    if (!page.dataset.tag) history.replaceState(null, "", q ? `/search?q=${encodeURIComponent(q)}` : "/search");
    runSearch(page);
  });
  runSearch(page);
  const trending = document.getElementById("trending");
  if (trending) {
    const { results } = await api("GET", "/api/trending");
    trending.replaceChildren(...(results.length ? results.map(characterCard)
      : [el("p", { class: "muted" }, "Nothing trending yet.")]));
  }
}

async function initCreator(page) {
  const username = page.dataset.username;
  const { creator } = await api("GET", `/api/creators/${encodeURIComponent(username)}`);
  document.getElementById("creator-joined").textContent =
    `Joined ${new Date(creator.joined_at).toLocaleDateString()} · ${creator.characters.length} public characters`;
  const followers = document.getElementById("creator-followers");
  const button = document.getElementById("follow-creator");
  const render = (state) => {
    followers.textContent = `${state.followers} followers`;
    button.textContent = state.following ? "Following" : "Follow";
    button.setAttribute("aria-pressed", String(state.following));
    button.dataset.following = state.following ? "1" : "";
  };
  render(creator);
  if (signedIn && !creator.is_me) {
    button.hidden = false;
    button.addEventListener("click", async () => render(await api(
      button.dataset.following ? "DELETE" : "POST", `/api/creators/${encodeURIComponent(username)}/follow`)));
  }
  document.getElementById("creator-characters").replaceChildren(...(creator.characters.length
    ? creator.characters.map(characterCard) : [el("p", { class: "muted" }, "No public characters yet.")]));
}

const searchPage = document.getElementById("search-page");
const creatorPage = document.getElementById("creator-page");
if (searchPage) initSearch(searchPage);
if (creatorPage) initCreator(creatorPage);
