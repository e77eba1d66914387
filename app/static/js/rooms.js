// The /rooms page: my rooms with an invite link each, the new-room form, and /invite/<token>.
(() => {
  const { api, el } = Kindred;
  const page = document.querySelector(".rooms-page");
  const list = document.getElementById("room-list");
  const form = document.getElementById("room-create");
  const formError = document.getElementById("room-create-error");

  async function loadRooms() {
    const { rooms } = await api("GET", "/api/rooms");
    list.replaceChildren();
    if (!rooms.length) list.append(el("li", { class: "muted" }, "No rooms yet: create one below."));
    for (const room of rooms) list.append(roomItem(room));
  }

  function roomItem(room) {
    const link = el("input", { class: "invite-url", readonly: "", "aria-label": "Invite link", hidden: true });
    const invite = el("button", { type: "button", class: "invite-make" }, "Invite link");
    invite.addEventListener("click", async () => {
      try {
        const made = await api("POST", `/api/rooms/${room.id}/invites`, {});
        link.value = made.url;
        link.hidden = false;
        link.select();
      } catch (error) {
        link.hidden = false;
        link.value = error.message;
      }
    });
    const who = room.characters.length ? room.characters.join(", ") : "people and the assistant";
    return el("li", { class: "room-item", "data-room-id": room.id },
      el("a", { href: `/rooms/${room.id}`, class: "room-link" }, room.title),
      el("span", { class: "muted" }, ` · ${who} · ${room.members} ${room.members === 1 ? "person" : "people"}`),
      el("div", { class: "room-item-tools" }, invite, link));
  }

  const listed = document.getElementById("listed-list");

  async function loadListed() {
    const tag = document.getElementById("listed-tag").value.trim();
    const { rooms } = await api("GET", "/api/rooms/listed" + (tag ? `?tag=${encodeURIComponent(tag)}` : ""));
    listed.replaceChildren();
    if (!rooms.length) listed.append(el("li", { class: "muted" }, "No listed rooms" + (tag ? ` for "${tag}"` : "") + "."));
    for (const room of rooms) {
      const join = el("button", { type: "button", class: "room-join" }, "Join");
      join.addEventListener("click", async () => {
        try {
          await api("POST", `/api/rooms/${room.id}/join`);
          window.location.href = `/rooms/${room.id}`;
        } catch (error) {
          join.replaceWith(el("span", { class: "error" }, error.message));
        }
      });
      listed.append(el("li", { class: "room-item", "data-room-id": room.id },
        el("strong", {}, room.title),
        el("span", { class: "muted" }, ` · #${room.listed_tag} · ${room.members} ${room.members === 1 ? "person" : "people"}`),
        el("div", { class: "room-item-tools" }, join)));
    }
  }

  document.getElementById("listed-search").addEventListener("submit", (event) => {
    event.preventDefault();
    loadListed().catch((error) => { listed.replaceChildren(el("li", { class: "error" }, error.message)); });
  });

  const visibility = document.getElementById("room-visibility");
  visibility.addEventListener("change", () => {
    document.getElementById("room-tag-label").hidden = visibility.value !== "listed";
  });

  async function loadCharacters() {
    const box = document.getElementById("room-characters");
    const [publicOnes, mine] = await Promise.all([
      api("GET", "/api/characters"),
      api("GET", "/api/me/characters").then((d) => d.characters).catch(() => []),
    ]);
    const seen = new Set();
    box.replaceChildren();
    for (const character of [...mine, ...publicOnes]) {
      if (seen.has(character.id)) continue;
      seen.add(character.id);
      box.append(el("label", { class: "room-character-pick" },
        el("input", { type: "checkbox", name: "character_ids", value: character.id }),
        el("img", { class: "avatar small", src: character.avatar_url, alt: "" }),
        character.name));
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    formError.hidden = true;
    const body = {
      title: document.getElementById("room-title").value,
      character_ids: [...form.querySelectorAll("input[name=character_ids]:checked")].map((i) => Number(i.value)),
      strategy: document.getElementById("room-strategy").value,
      scenario: document.getElementById("room-scenario").value,
      assistant: document.getElementById("room-assistant").checked,
      visibility: visibility.value,
    };
    if (visibility.value === "listed") body.listed_tag = document.getElementById("room-tag").value;
    try {
      const { room } = await api("POST", "/api/rooms", body);
      window.location.href = `/rooms/${room.id}`;
    } catch (error) {
      formError.textContent = error.message;
      formError.hidden = false;
    }
  });

  const token = page.dataset.inviteToken;
  if (token) {
    const panel = document.getElementById("invite-panel");
    const status = document.getElementById("invite-status");
    panel.hidden = false;
    document.getElementById("invite-accept").addEventListener("click", async () => {
      try {
        const { room } = await api("POST", `/api/invites/${encodeURIComponent(token)}/accept`);
        window.location.href = `/rooms/${room.id}`;
      } catch (error) {
        status.textContent = error.message;
        status.classList.add("error");
      }
    });
  }

  loadRooms().catch((error) => { list.replaceChildren(el("li", { class: "error" }, error.message)); });
  loadCharacters().catch(() => {});
  loadListed().catch((error) => { listed.replaceChildren(el("li", { class: "error" }, error.message)); });
})();
