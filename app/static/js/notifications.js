// Notifications in the header, on every page: the unread badge, the list, mark read, and new
// ones live as `notify:new` over the page's Socket.IO connection (the chat page's own, or one
// opened here; the server puts every socket of a user in that user's room).
(() => {
  const { api, el } = Kindred;
  const root = document.getElementById("notify");
  if (!root) return;  // signed out
  const button = document.getElementById("notify-button");
  const badge = document.getElementById("notify-badge");
  const panel = document.getElementById("notify-panel");
  const list = document.getElementById("notify-list");
  const SOCKET_IO = "/static/vendor/socket.io.min.js";
  let unread = 0;
  let items = [];

  button.addEventListener("click", () => {
    panel.hidden = !panel.hidden;
    button.setAttribute("aria-expanded", String(!panel.hidden));
  });
  document.addEventListener("click", (event) => {
    if (!panel.hidden && !root.contains(event.target)) {
      panel.hidden = true;
      button.setAttribute("aria-expanded", "false");
    }
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !panel.hidden) { panel.hidden = true; button.focus(); }
  });
  document.getElementById("notify-read-all").addEventListener("click", () => markRead(null));

  async function load() {
    try {
      const data = await api("GET", "/api/notifications");
      items = data.notifications || [];
      setUnread(data.unread ?? items.filter((n) => !isRead(n)).length);
      renderList();
    } catch (_error) { /* the header stays quiet; the page itself reports its own errors */ }
  }

  function arrived(payload) {
    const notification = payload?.notification || payload;
    if (notification?.id && !items.some((n) => n.id === notification.id)) items.unshift(notification);
    setUnread(typeof payload?.unread === "number" ? payload.unread : unread + 1);
    renderList();
  }

  async function markRead(ids) {
    try {
      const data = await api("POST", "/api/notifications/read", ids ? { ids } : {});
      const now = new Date().toISOString();
      for (const n of items) if (!ids || ids.includes(n.id)) n.read_at = n.read_at || now;
      setUnread(typeof data.unread === "number" ? data.unread : items.filter((n) => !isRead(n)).length);
      renderList();
    } catch (_error) { /* left unread; the next try can succeed */ }
  }

  function renderList() {
    list.replaceChildren(...(items.length ? items.map(entry)
      : [el("li", { class: "muted notify-empty" }, "Nothing yet. Likes, replies and new followers show up here.")]));
  }

  function entry(n) {
    const href = n.post_id ? `/posts/${n.post_id}${n.comment_id ? "#comments" : ""}` : (n.url || null);
    const text = el("span", { class: "notify-text" }, n.text || describe(n));
    const snippet = n.snippet ? el("span", { class: "notify-snippet muted small" }, n.snippet) : null;
    const when = el("span", { class: "muted small" }, ago(n.created_at));
    const body = href
      ? el("a", { href, onclick: (event) => follow(event, n, href) }, text, snippet, when)
      : el("span", {}, text, snippet, when);
    return el("li", { class: `notify-item kind-${n.kind}${isRead(n) ? "" : " unread"}`, "data-notification-id": n.id }, body);
  }

  async function follow(event, n, href) {
    if (isRead(n)) return;
    event.preventDefault();
    await markRead([n.id]);
    window.location.href = href;
  }

  function describe(n) {
    const who = n.actor_character?.name || n.actor?.display_name || n.actor?.username || n.actor_name || "Someone";
    return {
      like: `${who} liked your post`,
      reply: `${who} replied to you`,
      follow: `${who} followed you`,
      post: `${who} posted something new`,
      welcome: `${who} welcomed you to the community`,
    }[n.kind] || `${who}: something new`;
  }

  function isRead(n) { return Boolean(n.read_at || n.read); }

  function setUnread(count) {
    unread = Math.max(0, count);
    badge.textContent = unread > 99 ? "99+" : String(unread);
    badge.hidden = unread === 0;
    root.dataset.unread = String(unread);
    button.setAttribute("aria-label", unread ? `Notifications, ${unread} unread` : "Notifications");
  }

  function ago(iso) {
    if (!iso) return "";
    const minutes = Math.floor(Math.max(0, Date.now() - new Date(iso).getTime()) / 60000);
    if (minutes < 1) return " · just now";
    if (minutes < 60) return ` · ${minutes} min ago`;
    if (minutes < 1440) return ` · ${Math.floor(minutes / 60)} h ago`;
    return ` · ${new Date(iso).toLocaleDateString()}`;
  }

  // The page's socket if it has one (chat.js sets Kindred.socket), else one of our own.
  function socket() {
    if (Kindred.socket) return Promise.resolve(Kindred.socket);
    return new Promise((resolve, reject) => {
      const connect = () => { Kindred.socket = io({ transports: ["websocket"] }); resolve(Kindred.socket); };
      if (typeof io === "function") { connect(); return; }
      const script = el("script", { src: SOCKET_IO });
      script.addEventListener("load", connect);
      script.addEventListener("error", reject);
      document.head.append(script);
    });
  }

  socket().then((s) => {
    s.on("notify:new", arrived);
    s.on("connect", () => { root.dataset.live = "true"; });
    if (s.connected) root.dataset.live = "true";
    // Reconnected after a drop: what came meanwhile is only in the list.
    s.io.on("reconnect", () => load());
  }).catch(() => {});
  load();
})();
