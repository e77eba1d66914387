// The memory page: see, pin, edit and delete what characters remember about you.
(() => {
  const { api, el } = Kindred;
  const list = document.getElementById("memory-list");
  const filter = document.getElementById("memory-filter");
  const errorBox = document.getElementById("memories-error");
  const characters = new Map();

  filter.addEventListener("change", () => load().catch(showError));

  async function load() {
    const query = filter.value ? `?character_id=${filter.value}` : "";
    const { memories } = await api("GET", `/api/memories${query}`);
    if (!filter.value) {
      memories.forEach((m) => characters.set(m.character_id, m.character_name));
      const chosen = filter.value;
      filter.replaceChildren(el("option", { value: "" }, "All characters"),
        ...[...characters].map(([id, name]) => el("option", { value: id }, name)));
      filter.value = chosen;
    }
    list.replaceChildren(...memories.map(row));
    document.getElementById("memories-empty").hidden = memories.length > 0;
  }

  function row(memory) {
    const source = memory.source.conversation_id
      ? el("a", { href: `/chat/${memory.source.conversation_id}` }, `“${memory.source.excerpt}”`)
      : el("span", {}, `“${memory.source.excerpt}” (message deleted)`);
    return el("li", { class: `memory${memory.pinned ? " pinned" : ""}`, "data-memory-id": memory.id },
      el("div", { class: "content" }, memory.content),
      el("div", { class: "source" }, `${memory.character_name} · from `, source,
        memory.edited ? " · edited" : ""),
      el("div", { class: "tools" },
        el("button", { class: "pin", onclick: () => save(memory.id, { pinned: !memory.pinned }) },
          memory.pinned ? "Unpin" : "Pin"),
        el("button", { class: "edit", onclick: (event) => edit(event.target.closest("li"), memory) }, "Edit"),
        el("button", { class: "delete", onclick: () => remove(memory.id) }, "Delete")));
  }

  function edit(item, memory) {
    const editor = el("textarea", { class: "editor", maxlength: "300" });
    editor.value = memory.content;
    item.replaceChildren(editor, el("div", { class: "tools" },
      el("button", { class: "primary save", onclick: () => save(memory.id, { content: editor.value }) }, "Save"),
      el("button", { class: "cancel", onclick: () => load().catch(showError) }, "Cancel")));
    editor.focus();
  }

  async function save(id, changes) {
    try { await api("PATCH", `/api/memories/${id}`, changes); hideError(); await load(); }
    catch (error) { showError(error); }
  }

  async function remove(id) {
    if (!window.confirm("Forget this memory?")) return;
    try { await api("DELETE", `/api/memories/${id}`); await load(); }
    catch (error) { showError(error); }
  }

  function showError(error) { errorBox.textContent = error.message; errorBox.hidden = false; }
  function hideError() { errorBox.hidden = true; }

  load().catch(showError);
})();
