// The moderation queue: items grouped by target with their context, scores, reports, flags and
// appeals; an action form per item (each action takes a reason and cites a rule); the audit log.
const { api, el } = Kindred;
const ACTIONS = ["hide", "restore", "dismiss", "warn", "suspend", "ban", "unsuspend", "unban"];
const CONTENT_ONLY = new Set(["hide", "restore"]);

function ruleSelect() {
  const select = el("select", { name: "rule", class: "rule" }, el("option", { value: "" }, "Rule…"));
  select.append(document.getElementById("rule-options").content.cloneNode(true));
  return select;
}

function scoreLine(scores) {
  const entries = Object.entries(scores || {});
  if (!entries.length) return null;
  return el("p", { class: "scores muted" }, "Scores: " + entries
    .map(([name, value]) => `${name} ${typeof value === "number" ? value.toFixed(2) : value}`).join(", "));
}

function contextList(item) {
  if (!item.context.length) return null;
  const list = el("ol", { class: "context" });
  for (const line of item.context) {
    if (line.field !== undefined) {
      list.append(el("li", {}, el("strong", {}, `${line.field}: `), line.text));
    } else {
      list.append(el("li", { class: line.target ? "context-line target" : "context-line",
        "data-message-id": line.id }, el("strong", {}, `${line.role}: `), line.content,
        line.target ? el("span", { class: "badge" }, " ← reported / flagged") : null));
    }
  }
  return list;
}

function actionForm(item, refresh) {
  const action = el("select", { name: "action", class: "action" },
    ...ACTIONS.filter((a) => !CONTENT_ONLY.has(a) || item.hideable)
      .map((a) => el("option", { value: a }, a)));
  const rule = ruleSelect();
  if (item.rule) rule.value = item.rule;
  const days = el("input", { name: "days", type: "number", min: "1", max: "365", value: "3",
    class: "days", "aria-label": "Days" });
  const reason = el("input", { name: "reason", class: "reason", maxlength: "500", required: "required",
    placeholder: "Reason (shown to the user)" });
  const status = el("span", { class: "muted", role: "status" });
  const form = el("form", { class: "row action-form" }, action, rule, days, reason,
    el("button", { type: "submit", class: "primary" }, "Apply"), status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { action: action.value, target_type: item.target_type, target_id: item.target_id,
      reason: reason.value };
    if (rule.value) body.rule = rule.value;
    if (action.value === "suspend") body.days = Number(days.value);
    try {
      await api("POST", "/api/moderation/actions", body);
      status.textContent = "Done.";
      refresh();
    } catch (error) {
      status.textContent = error.message;
      status.className = "error";
    }
  });
  return form;
}

function appealBlock(appeal, refresh) {
  const box = el("div", { class: "appeal", "data-appeal-id": appeal.id },
    el("p", {}, el("strong", {}, `Appeal #${appeal.id} (${appeal.status}) of action ${appeal.action_id}: `),
      appeal.text));
  if (appeal.status !== "open") return box;
  const reason = el("input", { class: "reason", maxlength: "500", placeholder: "Reason for the decision" });
  const status = el("span", { class: "muted", role: "status" });
  const decide = (decision) => async () => {
    try {
      await api("POST", `/api/moderation/appeals/${appeal.id}`, { decision, reason: reason.value });
      refresh();
    } catch (error) {
      status.textContent = error.message;
    }
  };
  box.append(el("div", { class: "row" }, reason,
    el("button", { type: "button", onclick: decide("granted") }, "Grant"),
    el("button", { type: "button", onclick: decide("denied") }, "Deny"), status));
  return box;
}

function itemCard(item, refresh) {
  const author = item.author ? `${item.author.username} (${item.author.role}, ${item.author.standing})` : "nobody";
  return el("article", { class: "queue-item", "data-target": `${item.target_type}:${item.target_id}` },
    el("h3", {}, `${item.target_type} #${item.target_id}`,
      el("span", { class: "badge" }, ` ${item.source}${item.hidden ? " · hidden" : ""}`
        + `${item.rule ? " · " + item.rule : ""}${item.category ? " · " + item.category : ""}`)),
    el("p", { class: "author" }, `Author: ${author}`),
    scoreLine(item.scores),
    contextList(item),
    item.reports.length ? el("ul", { class: "reports" }, ...item.reports.map((r) =>
      el("li", {}, `Report: ${r.reason}${r.note ? " — " + r.note : ""} (${r.status})`))) : null,
    item.flags.length ? el("ul", { class: "flags" }, ...item.flags.map((f) =>
      el("li", {}, `Flag: ${f.action} ${f.category || ""} at ${f.stage} (${f.surface})`))) : null,
    ...item.appeals.map((a) => appealBlock(a, refresh)),
    actionForm(item, refresh));
}

async function loadAudit() {
  const { actions } = await api("GET", "/api/moderation/audit?limit=50");
  document.getElementById("audit-log").replaceChildren(...actions.map((a) => el("li", {},
    `${a.created_at.slice(0, 16).replace("T", " ")} · ${a.action} ${a.target_type} #${a.target_id}`
    + `${a.rule ? " · " + a.rule : ""}${a.days ? " · " + a.days + " days" : ""} — ${a.reason}`)));
}

async function loadQueue() {
  const status = document.getElementById("queue-status");
  const state = document.getElementById("queue-state").value;
  try {
    const { items } = await api("GET", `/api/moderation/queue?state=${state}`);
    status.textContent = items.length ? `${items.length} item(s)` : "Nothing to review.";
    document.getElementById("queue-items").replaceChildren(...items.map((i) => itemCard(i, refresh)));
    await loadAudit();
  } catch (error) {
    status.textContent = error.message;
  }
}

function refresh() { loadQueue(); }

if (document.getElementById("moderation-page")) {
  document.getElementById("queue-refresh").addEventListener("click", refresh);
  document.getElementById("queue-state").addEventListener("change", refresh);
  refresh();
}
