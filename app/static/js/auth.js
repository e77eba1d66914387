const form = document.getElementById("auth-form");
const errorBox = document.getElementById("auth-error");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  errorBox.hidden = true;
  const mode = form.dataset.mode;
  const body = { username: form.username.value.trim(), password: form.password.value };
  try {
    await Kindred.api("POST", `/api/auth/${mode}`, body);
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
