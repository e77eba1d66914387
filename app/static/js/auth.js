const form = document.getElementById("auth-form");
const errorBox = document.getElementById("auth-error");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  errorBox.hidden = true;
  const mode = form.dataset.mode;
  const body = { username: form.username.value.trim(), password: form.password.value };
  if (mode === "signup") {
    body.accept_rules = form.accept_rules.checked;
    if (form.birth_year.value) body.birth_year = Number(form.birth_year.value);
  }
  try {
    const session = await Kindred.api("POST", `/api/auth/${mode}`, body);
    if (body.accept_rules) await acceptRules(session.csrf_token);
    window.location.href = sameOriginTarget(form.dataset.next);
  } catch (error) {
    errorBox.textContent = error.message;
    errorBox.hidden = false;
  }
});

// `data-next` is the server's already checked `next=` (core/web/redirects.py); the page never
// reads one from its own address. Checked once more here with the browser's own URL parser.
function sameOriginTarget(next) {
  const target = new URL(next || "/", window.location.origin);
  return target.origin === window.location.origin ? target.href : "/";
}

// Sign-up shows the community rules (moderation's /api/rules, Markdown rendered by the server
// with raw HTML escaped); the form cannot be sent unticked, and the acceptance is recorded once
// the account exists.
let rulesVersion = null;
if (form.dataset.mode === "signup") {
  Kindred.api("GET", "/api/rules").then(({ rules }) => {
    rulesVersion = rules.version;
    document.getElementById("signup-rules").innerHTML = rules.html;
  }).catch(() => {});
}

async function acceptRules(csrfToken) {
  Kindred.csrf = csrfToken;
  await Kindred.api("POST", "/api/rules/accept", rulesVersion ? { version: rulesVersion } : {})
    .catch(() => {});
}
