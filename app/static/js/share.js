// Share from the chat page: pick messages, write a caption, preview what others will see (with
// e-mail addresses, phone numbers and street addresses masked, and a list of what was), publish.
// chat.js re-renders the messages often, so the picked ids live here and are marked again.
(() => {
  const { api, el } = Kindred;
  const chat = document.querySelector(".chat");
  const conversationId = Number(chat.dataset.conversationId);
  const list = document.getElementById("messages");
  const panel = document.getElementById("share-panel");
  const caption = document.getElementById("share-caption");
  const countBox = document.getElementById("share-count");
  const previewBox = document.getElementById("share-preview");
  const previewButton = document.getElementById("share-preview-button");
  const publishButton = document.getElementById("share-publish");
  const errorBox = document.getElementById("share-error");
  const picked = new Set();
  let previewed = null;  // the request the shown preview is of; publishing sends exactly that

  document.getElementById("share-open").addEventListener("click", () => (panel.hidden ? open() : close()));
  document.getElementById("share-cancel").addEventListener("click", () => close());
  previewButton.addEventListener("click", () => preview());
  publishButton.addEventListener("click", () => publish());
  caption.addEventListener("input", () => stale());

  list.addEventListener("click", (event) => {
    if (!chat.classList.contains("share-picking")) return;
    const bubble = event.target.closest("[data-message-id]");
    if (!bubble || event.target.closest("button, textarea")) return;
    const id = Number(bubble.dataset.messageId);
    if (picked.has(id)) picked.delete(id); else picked.add(id);
    mark();
    stale();
  });
  list.addEventListener("keydown", (event) => {
    if ((event.key === "Enter" || event.key === " ") && event.target.matches?.("[data-message-id]") &&
        chat.classList.contains("share-picking")) {
      event.preventDefault();
      event.target.click();
    }
  });
  new MutationObserver(() => { if (chat.classList.contains("share-picking")) mark(); })
    .observe(list, { childList: true });

  function open() {
    panel.hidden = false;
    chat.classList.add("share-picking");
    document.getElementById("share-open").setAttribute("aria-expanded", "true");
    mark();
    stale();
  }

  function close() {
    panel.hidden = true;
    chat.classList.remove("share-picking");
    document.getElementById("share-open").setAttribute("aria-expanded", "false");
    picked.clear();
    mark();
    caption.value = "";
    stale();
  }

  function mark() {
    const picking = chat.classList.contains("share-picking");
    for (const bubble of list.querySelectorAll("[data-message-id]")) {
      const on = picking && picked.has(Number(bubble.dataset.messageId));
      bubble.classList.toggle("picked", on);
      if (picking) {
        bubble.setAttribute("aria-pressed", String(on));
        bubble.tabIndex = 0;
      } else {
        bubble.removeAttribute("aria-pressed");
        bubble.removeAttribute("tabindex");
      }
    }
    // a picked message gone from the visible branch (flipped, deleted) is no longer shared
    const shown = new Set([...list.querySelectorAll("[data-message-id]")].map((b) => Number(b.dataset.messageId)));
    for (const id of [...picked]) if (!shown.has(id)) picked.delete(id);
    countBox.textContent = picked.size === 1 ? "1 message picked" : `${picked.size} messages picked`;
    previewButton.disabled = picked.size === 0;
  }

  // In the order of the conversation, not the order they were clicked.
  function request() {
    const ids = [...list.querySelectorAll("[data-message-id]")].map((b) => Number(b.dataset.messageId))
      .filter((id) => picked.has(id));
    return { kind: "chat", conversation_id: conversationId, message_ids: ids, body: caption.value.trim() };
  }

  function stale() {
    previewed = null;
    publishButton.disabled = true;
    previewBox.hidden = true;
    errorBox.hidden = true;
  }

  async function preview() {
    const asked = request();
    errorBox.hidden = true;
    try {
      const { preview: shown } = await api("POST", "/api/posts/preview", asked);
      renderPreview(shown);
      previewed = asked;
      publishButton.disabled = false;
    } catch (error) { showError(error.message); }
  }

  function renderPreview(shown) {
    const lines = shown.excerpt || [];
    const masked = shown.masked || [];
    previewBox.replaceChildren(...[
      el("h3", {}, "Preview"),
      shown.body ? el("p", { class: "post-body" }, shown.body) : null,
      el("ol", { class: "excerpt" }, ...lines.map((line) =>
        el("li", { class: `excerpt-line ${line.role}` },
          el("span", { class: "excerpt-name" }, line.name || ""),
          el("span", { class: "excerpt-text" }, line.content)))),
      masked.length
        ? el("div", { class: "masked" }, el("p", {}, "Masked so that no one sees them:"),
          el("ul", { class: "masked-list" }, ...masked.map((m) => el("li", {}, maskedLabel(m)))))
        : el("p", { class: "masked muted" }, "Nothing needed masking.")].filter(Boolean));
    previewBox.hidden = false;
  }

  const MASKED_KINDS = { email: "an e-mail address", phone: "a phone number", address: "a street address",
    card: "a card number", ssn: "an identity number" };

  // An entry is a kind ("email"), or an object saying more (kind, where, count).
  function maskedLabel(entry) {
    if (typeof entry === "string") return MASKED_KINDS[entry] || entry;
    const what = MASKED_KINDS[entry.kind || entry.type] || entry.label || entry.kind || entry.type || "a private detail";
    const where = entry.where || entry.in || (entry.field === "body" ? "caption" : entry.field);
    const count = entry.count > 1 ? `${entry.count} × ` : "";  // "2 × a phone number"
    return `${count}${what}${where ? ` (in the ${where})` : ""}${entry.text ? `: ${entry.text}` : ""}`;
  }

  async function publish() {
    if (!previewed) return;
    publishButton.disabled = true;
    try {
      const { post } = await api("POST", "/api/posts", previewed);
      window.location.href = `/posts/${post.id}`;
    } catch (error) {
      publishButton.disabled = false;
      showError(error.message);
    }
  }

  function showError(text) { errorBox.textContent = text; errorBox.hidden = false; }
})();
