// Shared by the gacha pages: idempotency keys, the status line and the wallet display.
function newKey() {
  if (window.crypto?.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

function say(text, isError = false) {
  const node = document.getElementById("gacha-message");
  node.textContent = text;
  node.className = isError ? "error" : "muted";
}

function showWallet(wallet) {
  for (const [currency, amount] of Object.entries(wallet)) {
    const node = document.querySelector(`#wallet [data-currency="${currency}"]`);
    if (node) node.textContent = amount;
  }
}
