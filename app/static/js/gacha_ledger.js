// Ledger history: entries newest first with the balance after each, paged with "Older entries".
const { api, el } = Kindred;
let nextBefore = null;

function row(entry) {
  return el("tr", { "data-entry-id": entry.id },
    el("td", {}, new Date(entry.created_at).toLocaleString()),
    el("td", {}, entry.description),
    el("td", {}, entry.currency),
    el("td", { class: entry.amount < 0 ? "debit" : "credit" }, (entry.amount > 0 ? "+" : "") + entry.amount),
    el("td", { class: "balance" }, String(entry.balance_after)));
}

async function load(append = false) {
  const params = new URLSearchParams();
  const currency = document.getElementById("ledger-currency").value;
  if (currency) params.set("currency", currency);
  if (append && nextBefore) params.set("before", nextBefore);
  const body = await api("GET", `/api/wallet/ledger?${params}`);
  for (const [name, amount] of Object.entries(body.balances)) {
    const node = document.querySelector(`#wallet [data-currency="${name}"]`);
    if (node) node.textContent = amount;
  }
  const table = document.getElementById("ledger");
  const rows = body.entries.map(row);
  if (append) table.append(...rows); else table.replaceChildren(...rows);
  if (!append && !rows.length) table.append(el("tr", {}, el("td", { colspan: 5, class: "muted" }, "Nothing yet.")));
  nextBefore = body.next_before;
  document.getElementById("ledger-more").hidden = !nextBefore;
}

document.getElementById("ledger-currency").addEventListener("change", () => load().catch((e) => say(e.message, true)));
document.getElementById("ledger-more").addEventListener("click", () => load(true).catch((e) => say(e.message, true)));
load().catch((e) => say(e.message, true));
