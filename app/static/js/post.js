// The post page: the post, its comments with one level of replies (edit and delete your own;
// characters' replies labelled as AI), report, and "Continue this chat" for a shared exchange.
const { api, el } = Kindred;
const postId = Number(document.getElementById("post-view").dataset.postId);
const slot = document.getElementById("post-slot");
const commentList = document.getElementById("comment-list");
const commentError = document.getElementById("comment-error");
let post = null;

async function loadPost() {
  try {
    ({ post } = await api("GET", `/api/posts/${postId}`));
  } catch (error) {
    showError(document.getElementById("post-error"), error.message);
    return;
  }
  slot.replaceChildren(KindredPosts.card(post, {
    full: true,
    extraActions: continueAction,
    onDeleted: () => { window.location.href = "/feed"; },
  }));
  slot.dataset.loaded = "true";
}

function continueAction(shown) {
  // what community/continue_chat.py continues: an exchange with a character
  if (!["chat", "story"].includes(shown.kind) || !shown.excerpt?.length || !shown.character) return [];
  const button = el("button", { type: "button", class: "continue-chat", onclick: async () => {
    button.disabled = true;
    try {
      const { conversation } = await api("POST", `/api/posts/${shown.id}/continue`);
      window.location.href = `/chat/${conversation.id}`;
    } catch (error) {
      button.disabled = false;
      KindredPosts.say(button.parentElement.querySelector(".post-status"), error.message, true);
    }
  } }, "Continue this chat");
  return [button];
}

// Comments

async function loadComments() {
  try {
    const { comments } = await api("GET", `/api/posts/${postId}/comments`);
    renderComments(threads(comments));
  } catch (error) { showError(commentError, error.message); }
}

// Top-level comments with their replies, whether the API nests them or lists them flat.
function threads(comments) {
  const top = comments.filter((c) => !c.parent_id).map((c) => ({ ...c, replies: [...(c.replies || [])] }));
  const byId = new Map(top.map((c) => [c.id, c]));
  for (const c of comments) {
    if (c.parent_id && byId.has(c.parent_id) && !byId.get(c.parent_id).replies.some((r) => r.id === c.id)) {
      byId.get(c.parent_id).replies.push(c);
    }
  }
  return top;
}

function renderComments(top) {
  commentList.replaceChildren(...top.map((comment) => {
    const item = commentItem(comment);
    if (comment.replies.length) {
      item.append(el("ol", { class: "replies" }, ...comment.replies.map((reply) => commentItem(reply))));
    }
    return item;
  }));
  commentList.dataset.loaded = String(top.length);
  if (!top.length) commentList.append(el("li", { class: "muted no-comments" }, "No comments yet."));
}

function commentItem(comment) {
  if (comment.deleted) {  // gone, but its replies are not
    return el("li", { class: "comment deleted", "data-comment-id": comment.id },
      el("p", { class: "comment-body muted" }, "This comment was deleted."));
  }
  const byCharacter = comment.author_kind === "character";
  const name = byCharacter ? (comment.author?.name || comment.author_character?.name || "A character")
    : KindredPosts.personName(comment.author);
  const status = el("span", { class: "post-status muted", role: "status" });
  const item = el("li", { class: `comment ${byCharacter ? "by-character" : ""} status-${comment.status || "published"}`,
    "data-comment-id": comment.id });
  const body = el("p", { class: "comment-body" }, comment.body);
  const tools = el("div", { class: "comment-tools" });
  if (!comment.parent_id) {
    tools.append(el("button", { type: "button", class: "reply link", onclick: () => openReply(item, comment) }, "Reply"));
  }
  if (KindredPosts.isMine(comment)) {
    tools.append(
      el("button", { type: "button", class: "edit link", onclick: () => startEdit(item, comment, body) }, "Edit"),
      el("button", { type: "button", class: "delete link", onclick: () => removeComment(comment, status) }, "Delete"));
  } else {
    tools.append(el("button", { type: "button", class: "report link",
      onclick: () => KindredPosts.openReport("comment", comment.id, status) }, "Report"));
  }
  tools.append(status);
  item.append(
    el("div", { class: "comment-head" },
      el("span", { class: "comment-author" }, name),
      byCharacter ? KindredPosts.aiLabel() : null,
      el("span", { class: "muted" }, ` · ${KindredPosts.timeAgo(comment.created_at)}`),
      comment.edited_at ? el("span", { class: "badge" }, " · edited") : null,
      comment.status === "held" || comment.in_review ? el("span", { class: "in-review" }, "in review") : null),
    body, tools);
  return item;
}

function openReply(item, parent) {
  if (item.querySelector(":scope > .reply-form")) return;
  const input = el("textarea", { rows: "2", placeholder: `Reply to ${KindredPosts.personName(parent.author)}…`,
    "aria-label": "Your reply", maxlength: "4000" });
  const form = el("form", { class: "reply-form comment-form" }, input,
    el("button", { type: "submit", class: "primary" }, "Reply"),
    el("button", { type: "button", class: "link", onclick: () => form.remove() }, "Cancel"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await send(input.value, parent.id);
  });
  item.querySelector(".comment-tools").after(form);
  input.focus();
}

function startEdit(item, comment, body) {
  const input = el("textarea", { rows: "2", "aria-label": "Edit your comment", maxlength: "4000" });
  input.value = comment.body;
  const form = el("form", { class: "edit-form comment-form" }, input,
    el("button", { type: "submit", class: "primary" }, "Save"),
    el("button", { type: "button", class: "link", onclick: () => loadComments() }, "Cancel"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api("PATCH", `/api/comments/${comment.id}`, { body: input.value.trim() });
      await loadComments();
    } catch (error) { showError(commentError, error.message); }
  });
  body.replaceWith(form);
  input.focus();
}

async function removeComment(comment, status) {
  if (!window.confirm("Delete this comment?")) return;
  try {
    await api("DELETE", `/api/comments/${comment.id}`);
    await Promise.all([loadComments(), loadPost()]);
  } catch (error) { KindredPosts.say(status, error.message, true); }
}

async function send(text, parentId) {
  const body = text.trim();
  if (!body) return false;
  commentError.hidden = true;
  try {
    await api("POST", `/api/posts/${postId}/comments`, parentId ? { body, parent_id: parentId } : { body });
    await Promise.all([loadComments(), loadPost()]);
    return true;
  } catch (error) {
    showError(commentError, error.message);
    return false;
  }
}

document.getElementById("comment-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = document.getElementById("comment-input");
  if (await send(input.value, null)) input.value = "";
});

function showError(box, text) { box.textContent = text; box.hidden = false; }

loadPost();
loadComments();
