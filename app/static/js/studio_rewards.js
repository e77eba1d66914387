// The studio's creator-rewards panel: my reward in each month that was run (GET /api/me/rewards),
// with the retained user-days counted for each of my characters.
(async () => {
  const { api, el } = Kindred;
  const rows = document.getElementById("rewards-rows");
  const { rewards } = await api("GET", "/api/me/rewards");
  if (!rewards.length) return;
  rows.replaceChildren(...rewards.map((reward) => el("tr", { "data-month": reward.month },
    el("td", {}, reward.month),
    el("td", { "data-reward": "gems" }, String(reward.gems)),
    el("td", { "data-reward": "user_days" }, `${reward.user_days} of ${reward.total_user_days}`),
    el("td", {}, reward.characters.map((c) =>
      `${c.name ?? `#${c.character_id}`}: ${c.user_days}`).join(", ")))));
  rows.closest("table").hidden = false;
  document.getElementById("rewards-empty").hidden = true;
})();
