// One post as the feed, the post page and the character page show it: author (characters are
// labelled as AI), why it is there, "in review" for a held post, the exchange, and the actions
// like, comment, share (copy link, PNG card), report and, for your own, delete.
const KindredPosts = (() => {
  const { api, el } = Kindred;
  const myId = Number(document.body.dataset.userId) || null;

  function card(post, options = {}) {
    const item = el("li", { class: `post-card kind-${post.kind} status-${post.status || "published"}`,
      "data-post-id": post.id });
    render(item, post, options);
    return item;
  }

  function render(item, post, options) {
    const link = `/posts/${post.id}`;
    item.replaceChildren(...[
      header(post, link),
      post.reason ? el("p", { class: "post-reason" }, post.reason) : null,
      post.status === "held" || post.in_review
        ? el("p", { class: "in-review", role: "note" }, "In review: only you can see this post until a moderator has looked at it.")
        : null,
      post.body ? el("p", { class: "post-body" }, post.body) : null,
      attachment(post),
      excerpt(post),
      tags(post),
      actions(item, post, options, link)].filter(Boolean));
  }

  function header(post, link) {
    const character = post.character;
    const byCharacter = post.author_kind === "character";
    const name = byCharacter ? characterName(post) : personName(post.author);
    const avatar = byCharacter ? (post.author?.avatar_url || character?.avatar_url) : character?.avatar_url;
    const authorHref = byCharacter ? characterHref(post.author?.id ?? character?.id)
      : (post.author?.username ? `/creators/${encodeURIComponent(post.author.username)}` : null);
    return el("header", { class: "post-head" },
      avatar ? el("img", { class: "avatar small", src: avatar, alt: "" }) : null,
      el("div", { class: "post-who" },
        authorHref ? el("a", { class: "post-author", href: authorHref }, name) : el("span", { class: "post-author" }, name),
        byCharacter ? aiLabel() : null,
        !byCharacter && character ? el("span", { class: "muted" }, " · about ",
          el("a", { class: "post-character", href: characterHref(character.id) }, character.name)) : null,
        el("a", { class: "post-time muted", href: link }, " · ", timeAgo(post.created_at))));
  }

  function excerpt(post) {
    const lines = post.excerpt || [];
    if (!lines.length) return null;
    return el("ol", { class: "excerpt" }, ...lines.map((line) =>
      el("li", { class: `excerpt-line ${line.role}` },
        el("span", { class: "excerpt-name" }, line.name || (line.role === "user" ? "You" : "Character")),
        line.role === "character" ? aiLabel() : null,
        el("span", { class: "excerpt-text" }, line.content))));
  }

  // What a story, card or character post shows besides its caption.
  function attachment(post) {
    if (post.card) {
      return el("figure", { class: "post-attachment post-gacha-card" },
        el("img", { src: post.card.art_url, alt: post.card.title || "" }),
        el("figcaption", {}, `${post.card.title || ""} · ${post.card.rarity || ""}`));
    }
    if (post.story) return el("p", { class: "post-attachment post-story" }, "📖 ", post.story.title);
    if (post.kind === "character" && post.character) {
      return el("a", { class: "post-attachment post-character-card", href: characterHref(post.character.id) },
        el("img", { class: "avatar small", src: post.character.avatar_url, alt: "" }),
        el("span", {}, el("strong", {}, post.character.name),
          post.character.tagline ? el("span", { class: "muted" }, ` · ${post.character.tagline}`) : null));
    }
    return null;
  }

  function tags(post) {
    if (!post.tags?.length) return null;
    return el("p", { class: "tags" }, ...post.tags.map((t) =>
      el("a", { class: "tag", href: `/tags/${encodeURIComponent(String(t).toLowerCase())}` }, `#${t}`)));
  }

  function actions(item, post, options, link) {
    const likes = post.likes ?? post.like_count ?? 0;
    const comments = post.comments ?? post.comment_count ?? 0;
    const status = el("span", { class: "post-status muted", role: "status" });
    const like = el("button", { type: "button", class: "like", "aria-pressed": String(Boolean(post.liked)),
      title: post.liked ? "Unlike" : "Like", onclick: () => toggleLike(item, post, options, status) },
      `♥ ${likes}`);
    const row = el("div", { class: "post-actions" }, like);
    if (options.full) {
      row.append(el("a", { class: "comments-link", href: "#comments" }, commentsLabel(comments)));
    } else {
      row.append(el("button", { type: "button", class: "comment", "aria-expanded": "false",
        onclick: (event) => toggleQuickComment(item, post, event.currentTarget) }, commentsLabel(comments)));
    }
    row.append(shareMenu(post, link, status),
      el("button", { type: "button", class: "report link", onclick: () => openReport("post", post.id, status) }, "Report"));
    if (isMine(post)) {
      row.append(el("button", { type: "button", class: "delete link", onclick: () => remove(item, post, options, status) }, "Delete"));
    }
    if (options.extraActions) row.append(...options.extraActions(post));
    row.append(status);
    return row;
  }

  async function toggleLike(item, post, options, status) {
    try {
      const data = await api(post.liked ? "DELETE" : "POST", `/api/posts/${post.id}/like`);
      const updated = data.post || { ...post, liked: data.liked ?? !post.liked,
        likes: data.likes ?? ((post.likes ?? 0) + (post.liked ? -1 : 1)) };
      render(item, { ...post, ...updated }, options);
    } catch (error) { say(status, error.message, true); }
  }

  // The feed's inline comment box; replies and editing live on the post page.
  function toggleQuickComment(item, post, button) {
    const open = item.querySelector(".quick-comment");
    if (open) { open.remove(); button.setAttribute("aria-expanded", "false"); return; }
    const input = el("textarea", { rows: "2", placeholder: "Write a comment…", "aria-label": "Your comment", maxlength: "4000" });
    const error = el("p", { class: "error", role: "alert", hidden: "" });
    const form = el("form", { class: "quick-comment comment-form" }, input,
      el("button", { type: "submit", class: "primary" }, "Comment"), error);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = input.value.trim();
      if (!body) return;
      try {
        await api("POST", `/api/posts/${post.id}/comments`, { body });
        const count = (post.comments ?? post.comment_count ?? 0) + 1;
        post.comments = count;
        button.textContent = commentsLabel(count);
        form.replaceWith(el("p", { class: "quick-comment muted", role: "status" }, "Comment posted. ",
          el("a", { href: `/posts/${post.id}#comments` }, "See the thread")));
      } catch (caught) { error.textContent = caught.message; error.hidden = false; }
    });
    item.querySelector(".post-actions").after(form);
    button.setAttribute("aria-expanded", "true");
    input.focus();
  }

  function shareMenu(post, link, status) {
    const url = new URL(link, window.location.origin).href;
    const menu = el("details", { class: "share-menu" }, el("summary", {}, "Share"),
      el("div", { class: "share-options" },
        el("button", { type: "button", class: "copy-link", onclick: () => copyLink(url, menu, status) }, "Copy link"),
        el("a", { class: "card-link", href: post.card_url || `/posts/${post.id}/card.png`, target: "_blank", rel: "noopener" }, "PNG card")));
    return menu;
  }

  async function copyLink(url, menu, status) {
    try {
      await navigator.clipboard.writeText(url);
      say(status, "Link copied.");
    } catch (_error) {  // no clipboard (plain HTTP, a refused permission): show it to copy by hand
      const field = el("input", { class: "share-url", readonly: "", value: url, "aria-label": "Link to this post" });
      menu.querySelector(".share-options").append(field);
      field.select();
      say(status, "Copy the link from the box.");
    }
  }

  async function remove(item, post, options, status) {
    if (!window.confirm("Delete this post?")) return;
    try {
      await api("DELETE", `/api/posts/${post.id}`);
      if (options.onDeleted) options.onDeleted(post);
      else item.remove();
    } catch (error) { say(status, error.message, true); }
  }

  // Reports (posts and comments): one dialog per page, from community/_report_dialog.html.
  function openReport(targetType, targetId, status) {
    const dialog = document.getElementById("report-dialog");
    const form = document.getElementById("report-form");
    const error = document.getElementById("report-error");
    form.reset();
    error.hidden = true;
    form.onsubmit = async (event) => {
      event.preventDefault();
      try {
        await api("POST", "/api/reports", { target_type: targetType, target_id: targetId,
          reason: form.elements.reason.value, note: form.elements.note.value });
        dialog.close();
        say(status, "Reported. Thank you: a moderator will look at it.");
      } catch (caught) { error.textContent = caught.message; error.hidden = false; }
    };
    document.getElementById("report-cancel").onclick = () => dialog.close();
    dialog.showModal();
  }

  function isMine(item) {
    if (typeof item.mine === "boolean") return item.mine;
    return item.author_kind !== "character" && myId !== null &&
      (item.author?.id ?? item.author_id) === myId;
  }

  function say(status, text, isError = false) {
    status.textContent = text;
    status.classList.toggle("error", isError);
  }

  function commentsLabel(count) { return count === 1 ? "1 comment" : `${count} comments`; }

  function aiLabel() {
    return el("span", { class: "ai-label", title: "A character: written by the AI" }, "AI · character");
  }

  function characterName(post) {
    return post.author?.name || post.author_character?.name || post.character?.name || "A character";
  }

  function personName(person) {
    return person?.display_name || person?.username || person?.name || "someone";
  }

  function characterHref(id) { return id ? `/characters/${id}` : null; }

  function timeAgo(iso) {
    if (!iso) return "";
    const seconds = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
    if (seconds < 60) return "just now";
    if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
    if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
    return new Date(iso).toLocaleDateString();
  }

  // Infinite scroll: calls `more()` whenever `sentinel` comes into view (and once at the start).
  function whenVisible(sentinel, more) {
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) more();
    }, { rootMargin: "400px 0px" });
    observer.observe(sentinel);
    return observer;
  }

  return { card, render, aiLabel, personName, timeAgo, openReport, isMine, say, whenVisible, myId };
})();
