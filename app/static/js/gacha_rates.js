// Disclosure page: every item with its base and consolidated probability.
const { api, el } = Kindred;

function percent(p) { return `${(p * 100).toFixed(4)}%`; }

async function loadRates() {
  const id = document.getElementById("rates").dataset.bannerId;
  const rates = await api("GET", `/api/banners/${id}/rates`);
  const ssr = rates.ssr;
  document.getElementById("rates-summary").replaceChildren(
    el("table", { class: "rates-table" },
      el("tr", {}, el("th", {}, "Rarity"), el("th", {}, "Base"), el("th", {}, "Consolidated")),
      ...["SSR", "SR", "R", "N"].map((r) => el("tr", {}, el("td", {}, r),
        el("td", {}, percent(rates.rarities[r].base_rate)),
        el("td", {}, percent(rates.rarities[r].consolidated_rate))))),
    el("p", {}, `Expected pulls to an SSR: ${ssr.expected_pulls_to_ssr.toFixed(2)}; hard pity: ${ssr.hard_pity}. `,
      ssr.expected_pulls_to_featured_ssr ? `Expected pulls to a featured SSR: ${ssr.expected_pulls_to_featured_ssr.toFixed(2)} (at most ${ssr.max_pulls_to_featured_ssr}).` : ""),
    el("p", { class: "muted" }, `Pool digest ${rates.pool_digest}`));
  document.getElementById("rates-items").replaceChildren(...rates.items.map((i) =>
    el("tr", { class: `rarity-${i.rarity}` },
      el("td", {}, i.card.title), el("td", {}, i.rarity), el("td", {}, i.featured ? "yes" : ""),
      el("td", {}, percent(i.base_probability)), el("td", {}, percent(i.consolidated_probability)))));
}

loadRates().catch((e) => { document.getElementById("rates-summary").textContent = e.message; });
