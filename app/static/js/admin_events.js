// The events admin page: list, create, edit and judge events through /api/admin/events.
(() => {
  const { api, el } = Kindred;
  const form = document.getElementById("event-form");
  const rows = document.getElementById("event-rows");
  const errorBox = document.getElementById("events-error");
  const notice = document.getElementById("events-notice");
  const field = (id) => document.getElementById(id);
  let events = [];

  function show(box, text) { box.textContent = text || ""; box.hidden = !text; }

  // datetime-local has no zone: the page reads and writes UTC.
  const toInput = (iso) => iso.slice(0, 16);
  const fromInput = (value) => (value ? `${value}:00Z` : undefined);
  const numbers = (text) => text.split(",").map((s) => s.trim()).filter(Boolean).map(Number);

  function body(editing) {
    const data = {
      name: field("event-name").value, theme: field("event-theme").value,
      description: field("event-description").value,
      starts_at: fromInput(field("event-starts").value), ends_at: fromInput(field("event-ends").value),
      topics: field("event-topics").value.split("\n").map((s) => s.trim()).filter(Boolean),
    };
    const prizes = field("event-prizes").value.trim();
    if (prizes) data.prizes = numbers(prizes);
    else if (editing) data.prizes = null;
    const banner = field("event-banner").value.trim();
    if (banner && !(editing && editing.banner)) data.banner = { featured_character_ids: numbers(banner) };
    if (editing && editing.status !== "upcoming") delete data.starts_at;
    return data;
  }

  function contestCell(event) {
    if (!event.contest) return "none";
    const winners = event.contest.winners.map((w) => `${w.place}. ${w.character ? w.character.name : "a character"} (${w.score})`);
    return `${event.contest.entries.length} entries · prizes ${event.contest.prizes.join("/")}` +
      (winners.length ? ` · winners: ${winners.join(", ")}` : "");
  }

  function row(event) {
    const actions = [el("button", { type: "button", class: "edit-event", onclick: () => edit(event) }, "Edit")];
    if (event.contest && event.status === "ended") {
      actions.push(el("button", { type: "button", class: "primary judge-event", onclick: () => judge(event) }, "Judge"));
    }
    return el("tr", { "data-event-id": event.id },
      el("td", { class: "event-name" }, event.name), el("td", {}, event.theme),
      el("td", {}, `${toInput(event.starts_at)} – ${toInput(event.ends_at)}`),
      el("td", { class: "event-status" }, event.status),
      el("td", { class: "event-contest" }, contestCell(event)), el("td", {}, ...actions));
  }

  async function load() {
    try {
      events = (await api("GET", "/api/admin/events")).events;
      rows.replaceChildren(...events.map(row));
    } catch (error) { show(errorBox, error.message); }
  }

  function edit(event) {
    field("event-id").value = event.id;
    field("event-name").value = event.name;
    field("event-theme").value = event.theme;
    field("event-description").value = event.description;
    field("event-starts").value = toInput(event.starts_at);
    field("event-ends").value = toInput(event.ends_at);
    field("event-topics").value = event.topics.join("\n");
    field("event-prizes").value = event.contest ? event.contest.prizes.join(", ") : "";
    field("event-banner").value = event.banner ? event.banner.featured_character_ids.join(", ") : "";
    field("event-banner").disabled = Boolean(event.banner);
    field("form-title").textContent = `Edit ${event.name}`;
    field("event-save").textContent = "Save changes";
    field("event-cancel").hidden = false;
  }

  function reset() {
    form.reset();
    field("event-id").value = "";
    field("event-banner").disabled = false;
    field("form-title").textContent = "New event";
    field("event-save").textContent = "Create event";
    field("event-cancel").hidden = true;
  }

  async function judge(event) {
    show(errorBox, "");
    try {
      const judged = (await api("POST", `/api/admin/events/${event.id}/judge`)).event;
      await load();
      show(notice, `${judged.name} is judged: ${judged.contest.winners.length} winner(s) paid.`);
    } catch (error) { show(errorBox, error.message); }
  }

  form.addEventListener("submit", async (submitted) => {
    submitted.preventDefault();
    show(errorBox, "");
    show(notice, "");
    const id = field("event-id").value;
    const editing = id ? events.find((e) => String(e.id) === id) : null;
    try {
      const saved = editing
        ? (await api("PATCH", `/api/admin/events/${id}`, body(editing))).event
        : (await api("POST", "/api/admin/events", body(null))).event;
      reset();
      await load();
      show(notice, `${saved.name} is saved (${saved.status}).`);
    } catch (error) { show(errorBox, error.message); }
  });
  field("event-cancel").addEventListener("click", reset);
  load();
})();
