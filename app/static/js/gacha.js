// Banner page: wallet and check-in, banners with rates and pity, 1/10 draws with a reveal.
const { api, el } = Kindred;
const RARITY_ORDER = { N: 0, R: 1, SR: 2, SSR: 3 };

async function loadWallet() {
  const data = await api("GET", "/api/wallet");
  showWallet(data.wallet);
  document.getElementById("checkin").disabled = data.checked_in_today;
}

function percent(p) { return `${(p * 100).toFixed(p < 0.01 ? 2 : 1)}%`; }

function pityLine(pity) {
  return el("p", { class: "pity", "data-pity": pity.pulls_since_ssr },
    `Pity: ${pity.pulls_since_ssr} pulls since the last SSR · SSR guaranteed within `,
    el("strong", {}, String(pity.pulls_to_hard_pity)),
    ` pulls · next SSR chance ${percent(pity.next_ssr_chance)}`,
    pity.featured_guaranteed ? el("span", { class: "guarantee" }, " · next SSR is featured") : null);
}

async function loadBanners() {
  const { banners } = await api("GET", "/api/banners");
  const list = document.getElementById("banners");
  if (!banners.length) { list.replaceChildren(el("p", { class: "muted" }, "No banners yet.")); return; }
  const cards = [];
  for (const banner of banners) {
    const rates = await api("GET", `/api/banners/${banner.id}/rates`);
    const featured = rates.items.filter((i) => i.featured && i.rarity === "SSR");
    cards.push(el("article", { class: `banner banner-${banner.status}`, "data-banner-id": banner.id },
      el("header", {},
        el("h2", {}, banner.name),
        el("span", { class: "status" }, banner.status === "open" ? (banner.ends_at ? `until ${new Date(banner.ends_at).toLocaleString()}` : "permanent") : banner.status)),
      featured.length ? el("div", { class: "featured" },
        ...featured.map((i) => el("img", { src: i.card.art_url, alt: i.card.title, title: i.card.title, class: "card-art small" })),
        el("p", {}, "Rate-up: ", featured.map((i) => i.card.title).join(", "))) : null,
      el("table", { class: "rates-mini" },
        el("tr", {}, el("th", {}, ""), ...["SSR", "SR", "R", "N"].map((r) => el("th", {}, r))),
        el("tr", {}, el("td", {}, "Base"), ...["SSR", "SR", "R", "N"].map((r) => el("td", {}, percent(rates.rarities[r].base_rate)))),
        el("tr", {}, el("td", {}, "With pity"), ...["SSR", "SR", "R", "N"].map((r) => el("td", {}, percent(rates.rarities[r].consolidated_rate))))),
      el("p", { class: "muted" }, `Soft pity from pull ${banner.rules.soft_pity_start}, SSR guaranteed by pull ${banner.rules.hard_pity}; every 10-pull has an SR or better. `,
        el("a", { href: `/gacha/banners/${banner.id}/rates` }, "All items and odds")),
      el("div", { class: "pity-box" }, banner.pity ? pityLine(banner.pity) : null),
      banner.status === "open" ? el("div", { class: "draw-buttons" },
        el("button", { class: "draw-1", onclick: () => draw(banner, 1) }, `Draw ×1 (${banner.pull_cost} gems)`),
        el("button", { class: "primary draw-10", onclick: () => draw(banner, 10) }, `Draw ×10 (${banner.pull_cost * 10} gems)`)) : null));
  }
  list.replaceChildren(...cards);
}

async function draw(banner, count) {
  const buttons = document.querySelectorAll(".draw-buttons button");
  buttons.forEach((b) => { b.disabled = true; });
  say("");
  try {
    const result = await api("POST", `/api/banners/${banner.id}/draw`, { count, idempotency_key: newKey() });
    showWallet(result.wallet);
    const box = document.querySelector(`[data-banner-id="${banner.id}"] .pity-box`);
    box.replaceChildren(pityLine(result.pity));
    reveal(result.pulls);
    loadSeed();
  } catch (error) {
    say(error.message, true);
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
  }
}

let revealTimer = null;

function reveal(pulls) {
  const overlay = document.getElementById("reveal");
  const holder = document.getElementById("reveal-cards");
  const best = Math.max(...pulls.map((p) => RARITY_ORDER[p.rarity]));
  overlay.dataset.best = Object.keys(RARITY_ORDER)[best];
  holder.className = `reveal-cards count-${pulls.length}`;
  holder.replaceChildren(...pulls.map((p) =>
    el("div", { class: `pull-card rarity-${p.rarity}`, "data-rarity": p.rarity, "data-pull-id": p.id },
      el("div", { class: "face back" }),
      el("div", { class: "face front" },
        el("img", { src: p.card.art_url, alt: p.card.title, class: "card-art" }),
        el("span", { class: "label" }, p.rarity, p.duplicate ? ` · +${p.shards} shards` : " · new")))));
  overlay.hidden = false;
  const cards = [...holder.children];
  let next = 0;
  clearInterval(revealTimer);
  revealTimer = setInterval(() => {
    if (next >= cards.length) { clearInterval(revealTimer); overlay.classList.add("done"); return; }
    cards[next++].classList.add("revealed");
  }, pulls.length === 1 ? 400 : 250);
}

function revealAll() {
  clearInterval(revealTimer);
  document.querySelectorAll("#reveal-cards .pull-card").forEach((c) => c.classList.add("revealed"));
  document.getElementById("reveal").classList.add("done");
}

async function loadSeed() {
  const { seed } = await api("GET", "/api/gacha/seed");
  document.getElementById("seed-hash").textContent = seed.seed_hash;
  document.getElementById("client-seed").textContent = seed.client_seed;
  document.getElementById("next-nonce").textContent = seed.next_nonce;
}

document.getElementById("checkin").addEventListener("click", async () => {
  try {
    const result = await api("POST", "/api/checkin");
    showWallet(result.wallet);
    say(result.granted ? `+${result.amount} gems for today.` : "Already checked in today; come back tomorrow (UTC).");
    document.getElementById("checkin").disabled = true;
  } catch (error) { say(error.message, true); }
});

document.getElementById("rotate-seed").addEventListener("click", async () => {
  try {
    const { revealed } = await api("POST", "/api/gacha/seed/rotate", {});
    document.getElementById("revealed").textContent =
      `Revealed seed #${revealed.id}: ${revealed.server_seed} (hash ${revealed.seed_hash}, ${revealed.next_nonce} pulls). ` +
      "Verify any pull with GET /api/gacha/pulls/<id>/verify or python -m gacha.cli verify.";
    loadSeed();
  } catch (error) { say(error.message, true); }
});

document.getElementById("reveal-skip").addEventListener("click", revealAll);
document.getElementById("reveal-close").addEventListener("click", () => {
  revealAll();
  const overlay = document.getElementById("reveal");
  overlay.hidden = true;
  overlay.classList.remove("done");
});

loadWallet().catch((e) => say(e.message, true));
loadBanners().catch((e) => say(e.message, true));
loadSeed().catch((e) => say(e.message, true));
