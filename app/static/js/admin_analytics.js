// The operator dashboard: each section reads its admin endpoint (with ?dataset= of the page)
// and draws it with Chart.js (app/static/vendor, from npm). Charts are redrawn on every change.
(() => {
  const root = document.getElementById("analytics");
  const dataset = root.dataset.dataset;
  const errorBox = document.getElementById("analytics-error");
  const range = document.getElementById("range");
  const from = document.getElementById("range-from");
  const to = document.getElementById("range-to");
  const charts = {};
  const pct = (v) => (v === null || v === undefined ? "–" : `${(v * 100).toFixed(1)}%`);
  const ci = (interval) => (interval ? `[${pct(interval[0])}, ${pct(interval[1])}]` : "");
  const num = (v, digits = 1) => (v === null || v === undefined ? "–" : Number(v).toFixed(digits));
  const minutes = (s) => (s === null || s === undefined ? "–" : `${(s / 60).toFixed(1)} min`);

  Chart.defaults.color = "#ece8f4";
  Chart.defaults.borderColor = "#2e2940";
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.animation = false;
  const COLORS = ["#b07cff", "#5ad1c8", "#ffb86b", "#ff7a8a", "#8fb3ff"];

  function draw(id, config) {
    charts[id]?.destroy();
    charts[id] = new Chart(document.getElementById(id), config);
    document.getElementById(id).dataset.drawn = "true";
  }

  function query(extra = {}) {
    const params = new URLSearchParams({ dataset, ...extra });
    if (from.value) params.set("from", from.value);
    if (to.value) params.set("to", to.value);
    return params.toString();
  }

  function showError(error) {
    errorBox.textContent = error ? error.message : "";
    errorBox.hidden = !error;
  }

  function line(label, data, index, extra = {}) {
    return { label, data, borderColor: COLORS[index], backgroundColor: COLORS[index],
             pointRadius: 0, tension: 0.2, ...extra };
  }

  async function loadActivity() {
    const { days } = await Kindred.api("GET", `/api/admin/analytics/activity?${query()}`);
    draw("chart-activity", { type: "line", data: { labels: days.map((d) => d.day), datasets: [
      line("DAU", days.map((d) => d.dau), 0), line("WAU", days.map((d) => d.wau), 1),
      line("MAU", days.map((d) => d.mau), 2),
      line("DAU/MAU", days.map((d) => d.stickiness), 3, { yAxisID: "ratio", borderDash: [4, 3] }),
    ] }, options: { scales: { y: { beginAtZero: true },
      ratio: { position: "right", min: 0, max: 1, grid: { drawOnChartArea: false } } } } });
    const last = days.filter((d) => !d.incomplete).pop();
    document.getElementById("activity-latest").textContent = last
      ? `${last.day}: DAU ${last.dau}, WAU ${last.wau}, MAU ${last.mau}, DAU/MAU ${pct(last.stickiness)}`
      : "No complete day in this range.";
  }

  let retentionAsked = 0;  // only the latest request draws: answers can arrive out of order

  async function loadRetention() {
    const period = document.getElementById("retention-period").value;
    const mode = document.getElementById("retention-mode").value;
    const asked = ++retentionAsked;
    const data = await Kindred.api("GET",
      `/api/admin/analytics/retention?${query({ period, mode })}`);
    if (asked !== retentionAsked) return;
    const unit = period === "day" ? "D" : "W";
    document.getElementById("retention-summary").textContent = ["1", "7", "30"]
      .map((n) => `${unit}${n} ${pct(data.summary[n])}`).join(" · ");
    const width = Math.max(0, ...data.cohorts.map((c) => c.values.length));
    const head = Kindred.el("tr", {}, Kindred.el("th", {}, "Cohort"), Kindred.el("th", {}, "Users"),
      ...Array.from({ length: width }, (_, n) => Kindred.el("th", {}, `${unit}${n}`)));
    const rows = data.cohorts.map((c) => Kindred.el("tr", {},
      Kindred.el("td", {}, c.start), Kindred.el("td", {}, String(c.size)),
      ...c.values.map((v, n) => c.incomplete.includes(n)
        ? Kindred.el("td", { class: "cell incomplete", title: `not over yet: ${c.counts[n]} so far` }, "…")
        : Kindred.el("td", { class: `cell heat-${Math.min(4, Math.floor(v * 5))}`,
                             title: `${c.counts[n]} of ${c.size}` }, pct(v)))));
    document.getElementById("retention-grid").replaceChildren(Kindred.el("thead", {}, head),
      Kindred.el("tbody", {}, ...rows));
    const at = (c, n) => (n < c.values.length ? c.values[n] : null);
    draw("chart-retention", { type: "line", data: { labels: data.cohorts.map((c) => c.start),
      datasets: [line(`${unit}1`, data.cohorts.map((c) => at(c, 1)), 0, { pointRadius: 2 }),
                 line(`${unit}7`, data.cohorts.map((c) => at(c, 7)), 1, { pointRadius: 2 })] },
      options: { scales: { y: { min: 0, max: 1 } } } });
  }

  async function loadEngagement() {
    const data = await Kindred.api("GET", `/api/admin/analytics/engagement?${query()}`);
    document.getElementById("engagement-summary").textContent =
      `${data.sessions} sessions · length median ${minutes(data.session_seconds.median)}, ` +
      `p90 ${minutes(data.session_seconds.p90)} · messages per session median ` +
      `${num(data.messages_per_session.median)}, p90 ${num(data.messages_per_session.p90)}`;
    const perDay = (f) => data.days.map((d) => f(d));
    draw("chart-engagement", { type: "line", data: { labels: perDay((d) => d.day), datasets: [
      line("median minutes", perDay((d) => d.session_seconds.median / 60), 0),
      line("p90 minutes", perDay((d) => d.session_seconds.p90 / 60), 1),
      line("median messages", perDay((d) => d.messages_per_session.median), 2, { yAxisID: "messages" }),
    ] }, options: { spanGaps: true, scales: { y: { beginAtZero: true },
      messages: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false } } } } });
  }

  async function loadFunnels() {
    const { funnels } = await Kindred.api("GET", `/api/admin/analytics/funnels?${query()}`);
    draw("chart-funnels", { type: "bar", data: { labels: ["entered", "second step", "returned on D1"],
      datasets: funnels.map((f, i) => ({ label: f.steps.map((s) => s.name).join(" → "),
        data: f.steps.map((s) => s.users), backgroundColor: COLORS[i] })) },
      options: { scales: { y: { beginAtZero: true } } } });
    document.getElementById("funnel-table").replaceChildren(
      Kindred.el("tr", {}, ...["Funnel", "Step 1", "Step 2", "Step 3", "Pending"]
        .map((h) => Kindred.el("th", {}, h))),
      ...funnels.map((f) => Kindred.el("tr", { "data-funnel": f.name }, Kindred.el("td", {}, f.name),
        ...f.steps.map((s, i) => Kindred.el("td", {},
          `${s.name}: ${s.users}${i ? ` (${pct(s.of_previous)})` : ""}`)),
        Kindred.el("td", {}, String(f.pending)))));
  }

  async function loadCommunity() {
    const data = await Kindred.api("GET", `/api/admin/analytics/community-effect?${query()}`);
    const diff = data.difference;
    document.getElementById("community-summary").textContent =
      `Took part: ${pct(data.community.rate)} of ${data.community.users} ${ci(data.community.ci)} · ` +
      `Did not: ${pct(data.others.rate)} of ${data.others.users} ${ci(data.others.ci)} · ` +
      `Difference: ${diff ? `${(diff.value * 100).toFixed(1)} points, 95% CI ` +
        `[${(diff.ci[0] * 100).toFixed(1)}, ${(diff.ci[1] * 100).toFixed(1)}]` : "–"}`;
    draw("chart-community", { type: "bar", data: { labels: ["took part on day 0", "did not"],
      datasets: [{ label: "D7 retention", data: [data.community.rate, data.others.rate],
                   backgroundColor: [COLORS[0], COLORS[2]] }] },
      options: { indexAxis: "y", scales: { x: { min: 0, max: 1 } } } });
    document.getElementById("behaviour-table").replaceChildren(
      Kindred.el("tr", {}, ...["Behaviour on day 0", "Users", "D7 retention", "95% CI"]
        .map((h) => Kindred.el("th", {}, h))),
      ...data.behaviours.map((b) => Kindred.el("tr", {}, Kindred.el("td", {}, b.name.replaceAll("_", " ")),
        Kindred.el("td", {}, String(b.users)), Kindred.el("td", {}, pct(b.rate)),
        Kindred.el("td", {}, ci(b.ci)))));
  }

  async function loadExperiment() {
    const select = document.getElementById("experiment-name");
    if (!select) return;
    const data = await Kindred.api("GET",
      `/api/admin/experiments/${encodeURIComponent(select.value)}?dataset=${dataset}`);
    const diff = (d) => (d ? `${num(d.value * 100)} pts [${num(d.ci[0] * 100)}, ${num(d.ci[1] * 100)}]` : "baseline");
    const mdiff = (d) => (d ? `${num(d.value, 2)} [${num(d.ci[0], 2)}, ${num(d.ci[1], 2)}]` : "baseline");
    document.getElementById("experiment-table").replaceChildren(
      Kindred.el("tr", {}, ...["Arm", "Users", "D1", "D7", "Messages / user (days 0-6)",
        "D7 vs baseline", "Messages vs baseline"].map((h) => Kindred.el("th", {}, h))),
      ...data.arms.map((a) => Kindred.el("tr", { "data-arm": a.arm }, Kindred.el("td", {}, a.arm),
        Kindred.el("td", {}, String(a.users)),
        Kindred.el("td", {}, `${pct(a.d1.rate)} ${ci(a.d1.ci)}`),
        Kindred.el("td", {}, `${pct(a.d7.rate)} ${ci(a.d7.ci)}`),
        Kindred.el("td", {}, `${num(a.messages_per_user.mean, 2)}` +
          (a.messages_per_user.ci ? ` [${num(a.messages_per_user.ci[0], 2)}, ${num(a.messages_per_user.ci[1], 2)}]` : "")),
        Kindred.el("td", {}, diff(a.vs_baseline?.d7)),
        Kindred.el("td", {}, mdiff(a.vs_baseline?.messages_per_user)))));
  }

  async function loadAll() {
    showError(null);
    const results = await Promise.allSettled([loadActivity(), loadRetention(), loadEngagement(),
      loadFunnels(), loadCommunity(), loadExperiment()]);
    const failed = results.find((r) => r.status === "rejected");
    if (failed) showError(failed.reason);
    root.dataset.loaded = "true";
  }

  range.addEventListener("submit", (event) => { event.preventDefault(); loadAll(); });
  for (const id of ["retention-period", "retention-mode"]) {
    document.getElementById(id).addEventListener("change", () => loadRetention().catch(showError));
  }
  document.getElementById("experiment-name")?.addEventListener("change",
    () => loadExperiment().catch(showError));
  loadAll();
})();
