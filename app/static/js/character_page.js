// The character page: the character, its remix lineage ("remixed from X by Y", how many remixes
// descend from it) with a Remix button when its creator allows remixing, and the posts about it.
const { api, el } = Kindred;
const characterId = Number(document.getElementById("character-view").dataset.characterId);
const errorBox = document.getElementById("character-error");
const postList = document.getElementById("character-posts");
const moreButton = document.getElementById("character-posts-more");
const posts = { cursor: null, done: false, loading: false };

async function loadCharacter() {
  const { character } = await api("GET", `/api/characters/${characterId}`);
  document.getElementById("character-avatar").src = character.avatar_url;
  document.getElementById("character-tagline").textContent = character.tagline || "";
  document.getElementById("character-creator").textContent = character.creator ? `by ${character.creator}` : "";
  document.getElementById("character-tags").replaceChildren(...(character.tags || []).map((t) =>
    el("a", { class: "tag", href: `/tags/${encodeURIComponent(t.toLowerCase())}` }, `#${t}`)));
  const remix = document.getElementById("character-remix");
  remix.hidden = character.allow_remix === false;
  remix.onclick = () => doRemix(remix);
}

async function loadLineage() {
  const lineage = await api("GET", `/api/characters/${characterId}/lineage`);
  const parent = lineage.ancestors?.[0];
  const from = document.getElementById("remixed-from");
  if (parent) {
    const by = creatorName(parent.creator);
    from.replaceChildren("Remixed from ",
      parent.id ? el("a", { href: `/characters/${parent.id}` }, parent.name) : el("strong", {}, parent.name),
      by ? ` by ${by}` : "");
    from.hidden = false;
  }
  const count = lineage.descendant_count ?? (lineage.descendants || []).length;
  document.getElementById("descendant-count").textContent =
    count === 0 ? "No remixes yet." : count === 1 ? "1 remix descends from this character." : `${count} remixes descend from this character.`;
  document.getElementById("descendants").replaceChildren(...(lineage.descendants || []).map((d) =>
    el("li", {}, el("a", { href: `/characters/${d.id}` }, d.name),
      creatorName(d.creator) ? el("span", { class: "muted" }, ` by ${creatorName(d.creator)}`) : null)));
  document.getElementById("lineage").dataset.loaded = "true";
}

function creatorName(creator) {
  if (!creator) return "";
  return typeof creator === "string" ? creator : (creator.display_name || creator.username || "");
}

async function doRemix(button) {
  button.disabled = true;
  try {
    const { character } = await api("POST", `/api/characters/${characterId}/remix`);
    window.location.href = `/studio/${character.id}`;
  } catch (error) {
    button.disabled = false;
    if (error.code === "no_remix") button.hidden = true;
    showError(error.message);
  }
}

async function startChat() {
  try {
    const { conversation } = await api("POST", "/api/conversations", { character_id: characterId });
    window.location.href = `/chat/${conversation.id}`;
  } catch (error) { showError(error.message); }
}

async function morePosts() {
  if (posts.loading || posts.done) return;
  posts.loading = true;
  const params = new URLSearchParams({ character_id: String(characterId) });
  if (posts.cursor) params.set("cursor", posts.cursor);
  try {
    const { posts: page, next_cursor: next } = await api("GET", `/api/characters/${characterId}/posts?${params}`);
    postList.append(...page.map((post) => KindredPosts.card(post)));
    posts.cursor = next;
    posts.done = !next;
    postList.dataset.loaded = String(postList.children.length);
    document.getElementById("character-posts-empty").hidden = postList.children.length > 0;
    moreButton.hidden = posts.done;
  } catch (error) {
    const empty = document.getElementById("character-posts-empty");
    empty.textContent = `The posts about this character could not be loaded: ${error.message}`;
    empty.hidden = false;
  } finally {
    posts.loading = false;
  }
}

function showError(text) { errorBox.textContent = text; errorBox.hidden = false; }

document.getElementById("character-chat").addEventListener("click", () => startChat());
moreButton.addEventListener("click", () => morePosts());
loadCharacter().catch((error) => showError(error.message));
loadLineage().catch(() => { document.getElementById("lineage").hidden = true; });
morePosts();
