// The chat page: renders the visible branch, streams replies over Socket.IO, edits and flips replies.
const { api, el } = Kindred;
const conversationId = Number(document.querySelector(".chat").dataset.conversationId);
const list = document.getElementById("messages");
const input = document.getElementById("composer-input");
const sendButton = document.getElementById("send");
const stopButton = document.getElementById("stop");
const regenerateButton = document.getElementById("regenerate");
const errorBox = document.getElementById("chat-error");
const noticeBox = document.getElementById("chat-notice");
let streaming = false;

const socket = io({ transports: ["websocket"] });
Kindred.socket = socket;  // one connection per page: notifications.js listens on it too
// The server closes the connection on a message over its limit (SOCKETIO_MAX_MESSAGE_BYTES, sent
// as maxPayload in the handshake; docs/socketio.md) without a word, so check before sending.
let maxPayload = 64 * 1024;
socket.io.engine?.on("handshake", (data) => { if (data.maxPayload) maxPayload = data.maxPayload; });

socket.on("connect", () => socket.emit("chat:join", { conversation_id: conversationId }));
socket.on("chat:joined", (data) => {
  // A reply started elsewhere (another tab, another server process) is running: show its text
  // so far (its last checkpoint); the chat:token events that follow add to it.
  if (data.message) upsertMessage(data.message);
  if (data.streaming) setStreaming(true);
  document.querySelector(".chat").dataset.joined = "true";
});
socket.on("chat:message", ({ message }) => upsertMessage(message));
socket.on("chat:token", ({ message_id, text }) => {
  setStreaming(true);
  const bubble = bubbleFor(message_id) || upsertMessage(
    { id: message_id, role: "assistant", content: "", status: "streaming", sibling_ids: [message_id], sibling_index: 0 });
  const body = bubble.querySelector(".content");
  body.dataset.raw = (body.dataset.raw || "") + text;
  renderText(body, body.dataset.raw);
  scrollToEnd();
});
socket.on("chat:done", async () => {
  // Re-renders the stored reply (for a reply the safety pipeline replaced, the neutral line
  // instead of what streamed), then re-enables the composer.
  await refresh();
});
// Self-harm support (helplines) and the wellbeing nudge: a box that stays until dismissed.
socket.on("chat:notice", (notice) => showNotice(notice));
// The login ended (log-out elsewhere, a password change, a ban): say why, then log in again.
socket.on("auth:ended", (data) => {
  showError(data.message || "Your session ended; log in again.");
  setStreaming(false);
  window.setTimeout(() => { window.location.href = "/login"; }, 3000);
});
socket.on("chat:error", async (error) => {
  showError(error.message);
  if (error.code !== "busy") setStreaming(false);
  if (error.code === "generation_failed") await refresh();
});
socket.on("connect_error", (error) => showError(`Connection problem: ${error.message}`));

document.getElementById("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  const content = input.value.trim();
  if (!content || streaming) return;
  hideError();
  const payload = { conversation_id: conversationId, content };
  const size = packetBytes("chat:send", payload);
  if (size > maxPayload) {
    showError(`This message is too long to send (${Math.ceil(size / 1024)} KB; a message can be ` +
              `at most ${Math.floor(maxPayload / 1024)} KB). Shorten it and send again.`);
    return;  // the text stays in the composer
  }
  setStreaming(true);
  socket.emit("chat:send", payload);
  input.value = "";
});
input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) {
    event.preventDefault();
    document.getElementById("composer").requestSubmit();
  }
});
stopButton.addEventListener("click", () => socket.emit("chat:stop", { conversation_id: conversationId }));
regenerateButton.addEventListener("click", () => regenerate());

function regenerate() {
  if (streaming) return;
  hideError();
  setStreaming(true);
  socket.emit("chat:regenerate", { conversation_id: conversationId });
}

async function refresh() {
  const { conversation } = await api("GET", `/api/conversations/${conversationId}`);
  document.getElementById("chat-title").textContent = conversation.character_name;
  document.getElementById("chat-avatar").src = conversation.character_avatar_url;
  list.replaceChildren();
  conversation.messages.forEach(upsertMessage);
  setStreaming(conversation.streaming);
  scrollToEnd();
}

function upsertMessage(message) {
  const classes = [`message ${message.role} status-${message.status}`];
  if (message.hidden) classes.push("hidden-message");
  if (message.moderated) classes.push("moderated");
  const bubble = el("li", { class: classes.join(" "), "data-message-id": message.id },
    el("div", { class: "content" }),
    messageTools(message));
  const shown = message.hidden ? "Hidden by a moderator." : message.content;
  renderText(bubble.querySelector(".content"), shown);
  bubble.querySelector(".content").dataset.raw = shown;
  const existing = bubbleFor(message.id);
  if (existing) existing.replaceWith(bubble);
  else list.append(bubble);
  scrollToEnd();
  return bubble;
}

function messageTools(message) {
  const tools = el("div", { class: "tools" });
  const count = message.sibling_ids?.length || 1;
  if (count > 1) {
    const index = message.sibling_index;
    tools.append(
      el("button", { class: "flip prev", title: "Previous version", disabled: index === 0 ? "" : null,
        onclick: () => select(message.sibling_ids[index - 1]) }, "‹"),
      el("span", { class: "flip-count" }, `${index + 1}/${count}`),
      el("button", { class: "flip next", title: "Next version", disabled: index === count - 1 ? "" : null,
        onclick: () => select(message.sibling_ids[index + 1]) }, "›"));
  }
  if (message.status === "stopped") tools.append(el("span", { class: "badge" }, "stopped"));
  if (message.status === "interrupted") tools.append(el("span", { class: "badge" }, "interrupted"));
  if (message.status === "blocked") {
    tools.append(el("span", { class: "badge blocked-label", title: "It breaks the community rules (/rules)" },
      "blocked: not sent"));
  }
  if (message.hidden) tools.append(el("span", { class: "badge" }, "hidden"));
  if (message.edited_at) tools.append(el("span", { class: "badge" }, "edited"));
  tools.append(el("button", { class: "edit", title: "Edit", onclick: () => startEdit(message) }, "Edit"));
  if (message.parent_id !== null) {
    tools.append(el("button", { class: "delete", title: "Delete this and what follows",
      onclick: () => remove(message) }, "Delete"));
  }
  return tools;
}

function startEdit(message) {
  if (streaming) return;
  const bubble = bubbleFor(message.id);
  const editor = el("textarea", { class: "editor" });
  editor.value = message.content;
  const save = el("button", { class: "primary save", onclick: async () => {
    try {
      const edited = await api("PATCH", `/api/messages/${message.id}`, { content: editor.value });
      await refresh();
      if (edited.notice) showNotice(edited.notice);
      if (edited.blocked) showError(edited.blocked.message);  // a blocked branch gets no reply
      else if (message.role === "user") regenerate();  // an edited message gets a fresh reply
    } catch (error) { showError(error.message); }
  } }, "Save");
  const cancel = el("button", { class: "cancel", onclick: () => refresh() }, "Cancel");
  bubble.replaceChildren(editor, el("div", { class: "tools" }, save, cancel));
  editor.focus();
}

async function select(messageId) {
  if (streaming) return;
  try {
    await api("POST", `/api/messages/${messageId}/select`);
    await refresh();
  } catch (error) { showError(error.message); }
}

async function remove(message) {
  if (streaming || !window.confirm("Delete this message and everything after it?")) return;
  try {
    await api("DELETE", `/api/messages/${message.id}`);
    await refresh();
  } catch (error) { showError(error.message); }
}

// *actions* in italics, everything else as plain text (never as HTML).
function renderText(node, text) {
  node.replaceChildren(...text.split(/(\*[^*\n]+\*)/g).filter(Boolean).map((part) =>
    part.length > 2 && part.startsWith("*") && part.endsWith("*")
      ? el("em", {}, part.slice(1, -1)) : document.createTextNode(part)));
}

function bubbleFor(id) { return list.querySelector(`[data-message-id="${id}"]`); }
function scrollToEnd() { list.scrollTop = list.scrollHeight; }
function setStreaming(value) {
  streaming = Boolean(value);
  sendButton.disabled = streaming;
  regenerateButton.disabled = streaming;
  stopButton.hidden = !streaming;
}
// The bytes of the Socket.IO packet the server measures: `42["event",{...}]`, UTF-8.
function packetBytes(event, payload) {
  return new TextEncoder().encode(`42${JSON.stringify([event, payload])}`).length;
}
function showError(text) { errorBox.textContent = text; errorBox.hidden = false; }
function showNotice(notice) {
  if (notice.conversation_id && notice.conversation_id !== conversationId) return;
  const lines = notice.kind === "support" ? (notice.resources || []) : [];
  noticeBox.className = `chat-notice ${notice.kind}`;
  noticeBox.replaceChildren(
    el("p", { class: "notice-message" }, notice.message || ""),
    ...(lines.length ? [el("ul", {}, ...lines.map((line) => el("li", {}, line)))] : []),
    el("button", { type: "button", class: "link dismiss", onclick: () => { noticeBox.hidden = true; } }, "Dismiss"));
  noticeBox.hidden = false;
}
function hideError() { errorBox.hidden = true; }

refresh().catch((error) => showError(error.message));
