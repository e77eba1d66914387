// Collection, shard shop, gifts to a card's character, and recent ledger entries.
const { api, el } = Kindred;

async function loadCollection() {
  const { cards, wallet } = await api("GET", "/api/gacha/collection");
  showWallet(wallet);
  const grid = document.getElementById("collection");
  grid.replaceChildren(...cards.map((card) =>
    el("article", { class: `collection-card rarity-${card.rarity}${card.count ? " owned" : ""}`, "data-card-id": card.id },
      el("img", { class: "card-art", src: card.art_url, alt: card.title, loading: "lazy" }),
      el("p", {}, card.title),
      el("p", { class: "muted" }, card.count ? `Owned ×${card.count}` : "Not owned yet"),
      el("button", { class: "buy", disabled: wallet.shards < card.shard_price, onclick: () => buy(card) },
        `Buy for ${card.shard_price} shards`),
      card.count ? el("button", { class: "gift", onclick: () => gift(card) },
        `Gift to ${card.character_name}`) : null,
      paidOffer(card, wallet))));
}

// Paid content: a card its creator sells for gems, bought straight into the collection.
function paidOffer(card, wallet) {
  if (card.price == null) return null;
  if (card.purchased) return el("p", { class: "paid-owned muted" }, "Bought with gems");
  if (card.count) return null;
  return el("button", { class: "buy-gems", disabled: wallet.gems < card.price ? "" : null,
    "data-price": card.price, onclick: () => buyWithGems(card) }, `Buy for ${card.price} gems`);
}

async function buyWithGems(card) {
  try {
    const result = await api("POST", "/api/purchases",
      { kind: "card", id: card.id, idempotency_key: newKey() });
    say(`Bought ${card.title} for ${result.purchase.gems} gems.`);
    await Promise.all([loadCollection(), loadLedger()]);
  } catch (error) { say(error.message, true); }
}

async function gift(card) {
  try {
    const result = await api("POST", `/api/relationships/${card.character_id}/gift`,
      { card_id: card.id, idempotency_key: newKey() });
    let text = `${card.character_name} loved ${card.title}: +${result.points} affinity ` +
      `(${result.affinity}, ${result.level_name}).`;
    if (result.notes.includes("daily_cap")) text += " Today's gift limit is reached.";
    if (result.level_up) text += ` Level up: you are now ${result.level_up.level_name}!`;
    say(text);
    await Promise.all([loadCollection(), loadLedger()]);
  } catch (error) { say(error.message, true); }
}

async function buy(card) {
  try {
    const result = await api("POST", `/api/gacha/shop/${card.id}`, { idempotency_key: newKey() });
    showWallet(result.wallet);
    say(`Bought ${card.title}.`);
    await Promise.all([loadCollection(), loadLedger()]);
  } catch (error) { say(error.message, true); }
}

async function loadLedger() {
  const { entries } = await api("GET", "/api/wallet");
  document.getElementById("ledger").replaceChildren(...entries.map((e) =>
    el("tr", {},
      el("td", {}, new Date(e.created_at).toLocaleString()),
      el("td", {}, e.kind.replace("_", " ")),
      el("td", {}, e.currency),
      el("td", { class: e.amount < 0 ? "debit" : "credit" }, (e.amount > 0 ? "+" : "") + e.amount))));
}

loadCollection().catch((e) => say(e.message, true));
loadLedger().catch((e) => say(e.message, true));
