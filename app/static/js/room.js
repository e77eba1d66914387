// A room's page: the history, people's messages and the characters' streamed turns over
// Socket.IO (docs/socketio.md "Rooms"), who is online and typing, OOC, trigger, mute and stop.
(() => {
  const { api, el } = Kindred;
  const root = document.querySelector(".room");
  const roomId = Number(root.dataset.roomId);
  const me = Number(root.dataset.userId);
  const list = document.getElementById("room-messages");
  const input = document.getElementById("room-input");
  const ooc = document.getElementById("room-ooc");
  const stopButton = document.getElementById("room-stop");
  const errorBox = document.getElementById("room-error");
  const TYPING_SHOWN_MS = 4000;
  const TYPING_SENT_EVERY_MS = 2000;

  let room = null;
  let online = new Set();
  const typingUntil = new Map();  // user id -> when their "typing…" goes away
  let lastTypingSent = 0;

  const socket = io({ transports: ["websocket"] });
  Kindred.socket = socket;

  socket.on("connect", () => socket.emit("room:join", { room_id: roomId }));
  socket.on("room:joined", (data) => {
    room = data.room;
    online = new Set(data.online || []);
    renderRoom();
    list.replaceChildren();
    for (const message of data.history || []) upsert(message);
    scrollToEnd();
    root.dataset.joined = "true";
  });
  socket.on("room:message", ({ message }) => { upsert(message); scrollToEnd(); });
  socket.on("room:turn", ({ character_id, message_id }) => {
    const character = castMember(character_id);
    if (character_id !== null && !character) refreshRoom();  // added since this page loaded
    upsert({ id: message_id, speaker: character_id === null ? "assistant" : "character",
             character_id, name: character ? character.name : "Assistant",
             avatar_url: character ? character.avatar_url : null, content: "", status: "streaming" });
    stopButton.hidden = false;
    scrollToEnd();
  });
  socket.on("room:token", ({ message_id, text }) => {
    const bubble = bubbleFor(message_id) || upsert({ id: message_id, speaker: "character", content: "", status: "streaming" });
    const body = bubble.querySelector(".content");
    body.textContent += text;
    scrollToEnd();
  });
  socket.on("room:done", ({ message }) => {
    upsert(message);
    if (!list.querySelector(".message.status-streaming")) stopButton.hidden = true;
    scrollToEnd();
  });
  socket.on("room:presence", (data) => {
    if (data.room_id !== roomId) return;
    online = new Set(data.online || []);
    if (room && [...online].some((id) => !room.members.some((m) => m.user_id === id))) {
      refreshRoom();  // someone joined through an invite since this page loaded
    } else {
      renderMembers();
    }
  });
  socket.on("room:typing", ({ room_id, user_id }) => {
    if (room_id !== roomId || user_id === me) return;
    typingUntil.set(user_id, Date.now() + TYPING_SHOWN_MS);
    renderMembers();
    window.setTimeout(renderMembers, TYPING_SHOWN_MS + 50);
  });
  socket.on("room:error", (error) => {
    showError(error.message || error.code);
    if (error.code === "not_member" || error.code === "removed") {
      input.disabled = true;
      document.getElementById("room-send").disabled = true;
    }
  });
  socket.on("auth:ended", (data) => showError(data.message || "Your session ended; log in again."));
  socket.on("connect_error", (error) => showError(`Connection problem: ${error.message}`));

  document.getElementById("room-composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const content = input.value.trim();
    if (!content) return;
    hideError();
    socket.emit("room:send", { room_id: roomId, content, ooc: ooc.checked });
    input.value = "";
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      document.getElementById("room-composer").requestSubmit();
    }
  });
  input.addEventListener("input", () => {
    const now = Date.now();
    if (now - lastTypingSent < TYPING_SENT_EVERY_MS) return;
    lastTypingSent = now;
    socket.emit("room:typing", { room_id: roomId });
  });
  stopButton.addEventListener("click", () => socket.emit("room:stop", { room_id: roomId }));

  document.getElementById("room-invite").addEventListener("click", async () => {
    const box = document.getElementById("room-invite-url");
    try {
      box.value = (await api("POST", `/api/rooms/${roomId}/invites`, {})).url;
    } catch (error) {
      box.value = error.message;
    }
    box.hidden = false;
    box.select();
  });
  document.getElementById("room-leave").addEventListener("click", async () => {
    try {
      await api("DELETE", `/api/rooms/${roomId}/members/${me}`);
      window.location.href = "/rooms";
    } catch (error) {
      showError(error.message);
    }
  });

  async function refreshRoom() {
    try {
      room = (await api("GET", `/api/rooms/${roomId}`)).room;
      renderRoom();
    } catch (error) {
      showError(error.message);
    }
  }

  function renderRoom() {
    document.getElementById("room-title").textContent = room.title;
    document.getElementById("room-strategy").textContent = `turns: ${room.strategy}`;
    const scenario = document.getElementById("room-scenario");
    scenario.textContent = room.scenario || "";
    scenario.hidden = !room.scenario;
    document.getElementById("room-leave").hidden = room.owner_id === me;
    renderMembers();
    renderCast();
  }

  function renderMembers() {
    if (!room) return;
    const box = document.getElementById("room-members");
    const now = Date.now();
    box.replaceChildren(...room.members.map((member) => {
      const isOnline = online.has(member.user_id);
      const typing = (typingUntil.get(member.user_id) || 0) > now;
      const item = el("li", { class: `room-person${isOnline ? " online" : ""}`, "data-user-id": member.user_id },
        el("span", { class: "presence-dot", "aria-hidden": "true" }),
        el("span", { class: "person-name" }, member.display_name || member.username),
        member.role === "owner" ? el("span", { class: "muted" }, " (owner)") : null,
        el("span", { class: "presence-label muted" }, isOnline ? " online" : " offline"),
        typing ? el("span", { class: "typing" }, " typing…") : null);
      if (room.owner_id === me && member.user_id !== me) {
        item.append(el("button", { type: "button", class: "link kick", onclick: () => kick(member) }, "Kick"));
      }
      return item;
    }));
  }

  function renderCast() {
    const box = document.getElementById("room-cast");
    const owner = room.owner_id === me;
    box.replaceChildren(...room.characters.map((character) => {
      const item = el("li", { class: `room-character${character.muted ? " muted-character" : ""}`,
                              "data-character-id": character.character_id },
        el("img", { class: "avatar small", src: character.avatar_url, alt: "" }),
        el("span", { class: "character-name" }, character.name),
        character.muted ? el("span", { class: "muted" }, " (muted)") : null,
        el("button", { type: "button", class: "trigger", title: `Make ${character.name} speak now`,
                       onclick: () => socket.emit("room:trigger", { room_id: roomId, character_id: character.character_id }) },
           "Speak"));
      if (owner) {
        item.append(el("button", { type: "button", class: "mute", onclick: () => toggleMute(character) },
                       character.muted ? "Unmute" : "Mute"));
      }
      return item;
    }));
    if (!room.characters.length) {
      box.append(el("li", { class: "muted" }, room.assistant ? "No characters: the assistant is on call." : "No characters."));
    }
  }

  async function toggleMute(character) {
    const key = character.muted ? "unmute_character_ids" : "mute_character_ids";
    try {
      const changed = await api("PATCH", `/api/rooms/${roomId}`, { [key]: [character.character_id] });
      room.characters = changed.room.characters;
      renderCast();
    } catch (error) {
      showError(error.message);
    }
  }

  async function kick(member) {
    try {
      await api("DELETE", `/api/rooms/${roomId}/members/${member.user_id}`);
      room.members = room.members.filter((m) => m.user_id !== member.user_id);
      renderMembers();
    } catch (error) {
      showError(error.message);
    }
  }

  function castMember(characterId) {
    return room?.characters.find((c) => c.character_id === characterId) || null;
  }

  function bubbleFor(id) {
    return list.querySelector(`.message[data-message-id="${id}"]`);
  }

  function upsert(message) {
    const existing = bubbleFor(message.id);
    const classes = ["message", `speaker-${message.speaker}`, `status-${message.status || "complete"}`];
    if (message.speaker === "user" && message.user_id === me) classes.push("user", "mine");
    if (message.ooc) classes.push("ooc");
    if (message.private) classes.push("private");
    const character = message.character_id != null ? castMember(message.character_id) : null;
    const avatar = message.avatar_url || character?.avatar_url;
    const name = message.name || character?.name || (message.speaker === "assistant" ? "Assistant" : "");
    const label = [name, message.ooc ? "(OOC)" : null, message.private ? "(only you see this)" : null]
      .filter(Boolean).join(" ");
    const bubble = el("li", { class: classes.join(" "), "data-message-id": message.id,
                              "data-speaker": message.speaker },
      el("div", { class: "message-head" },
        avatar && message.speaker === "character" ? el("img", { class: "avatar tiny", src: avatar, alt: "" }) : null,
        el("span", { class: "speaker" }, label)),
      el("div", { class: "content" }, message.content || ""));
    if (existing) existing.replaceWith(bubble);
    else list.append(bubble);
    return bubble;
  }

  function scrollToEnd() { list.scrollTop = list.scrollHeight; }
  function showError(text) { errorBox.textContent = text; errorBox.hidden = false; }
  function hideError() { errorBox.hidden = true; }
})();
