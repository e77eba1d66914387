const { api, el } = Kindred;

async function loadCharacters() {
  const grid = document.getElementById("characters");
  const characters = await api("GET", "/api/characters");
  grid.replaceChildren(...characters.map((c) =>
    el("article", { class: "character-card", "data-character-id": c.id },
      el("img", { class: "avatar", src: c.avatar_url, alt: "" }),
      el("h3", {}, c.name),
      el("p", { class: "tagline" }, c.tagline),
      el("p", { class: "tags" }, ...c.tags.map((t) => el("span", { class: "tag" }, `#${t}`))),
      el("button", { class: "primary start-chat", onclick: () => startChat(c.id) }, "Chat"))));
}

async function loadConversations() {
  const list = document.getElementById("conversations");
  const { conversations } = await api("GET", "/api/conversations");
  if (!conversations.length) {
    list.replaceChildren(el("li", { class: "muted" }, "No chats yet: pick a character below."));
    return;
  }
  list.replaceChildren(...conversations.map((c) =>
    el("li", {},
      el("a", { href: `/chat/${c.id}`, class: "conversation-link" },
        el("img", { class: "avatar small", src: c.character_avatar_url, alt: "" }),
        el("span", {}, el("strong", {}, c.character_name), el("br"),
          el("span", { class: "muted" }, c.last_message))))));
}

async function startChat(characterId) {
  const { conversation } = await api("POST", "/api/conversations", { character_id: characterId });
  window.location.href = `/chat/${conversation.id}`;
}

loadCharacters();
loadConversations();
