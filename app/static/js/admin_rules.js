// The moderation rules page: list, add, enable/disable and delete the rules stage's words and
// patterns through /api/admin/moderation/rules.
(() => {
  const rows = document.getElementById("rule-rows");
  const form = document.getElementById("rule-form");
  const filter = document.getElementById("rule-filter");
  const errorBox = document.getElementById("rules-error");
  let rules = [];

  function showError(error) {
    errorBox.textContent = error ? error.message : "";
    errorBox.hidden = !error;
  }

  function row(rule) {
    const toggle = Kindred.el("input", { type: "checkbox", checked: rule.enabled,
      "aria-label": `Rule ${rule.id} enabled`, onchange: () => setEnabled(rule, toggle.checked) });
    const remove = Kindred.el("button", { type: "button", class: "danger",
      onclick: () => removeRule(rule) }, "Delete");
    return Kindred.el("tr", { "data-rule-id": rule.id },
      Kindred.el("td", {}, rule.category), Kindred.el("td", {}, rule.kind),
      Kindred.el("td", {}, Kindred.el("code", {}, rule.pattern)),
      Kindred.el("td", {}, toggle), Kindred.el("td", {}, remove));
  }

  function render() {
    const shown = rules.filter((r) => !filter.value || r.category === filter.value);
    rows.replaceChildren(...shown.map(row));
  }

  async function load() {
    try {
      rules = (await Kindred.api("GET", "/api/admin/moderation/rules")).rules;
      render();
    } catch (error) { showError(error); }
  }

  async function setEnabled(rule, enabled) {
    try {
      await Kindred.api("PATCH", `/api/admin/moderation/rules/${rule.id}`, { enabled });
      rule.enabled = enabled;
      showError(null);
    } catch (error) { showError(error); render(); }
  }

  async function removeRule(rule) {
    try {
      await fetch(`/api/admin/moderation/rules/${rule.id}`, { method: "DELETE",
        credentials: "same-origin", headers: { "X-CSRF-Token": Kindred.csrf } });
      rules = rules.filter((r) => r.id !== rule.id);
      render();
      showError(null);
    } catch (error) { showError(error); }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    try {
      const { rule } = await Kindred.api("POST", "/api/admin/moderation/rules", {
        category: data.get("category"), kind: data.get("kind"), pattern: data.get("pattern") });
      rules.push(rule);
      form.reset();
      render();
      showError(null);
    } catch (error) { showError(error); }
  });
  filter.addEventListener("change", render);
  load();
})();
