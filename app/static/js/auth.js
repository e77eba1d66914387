const form = document.getElementById("auth-form");
const errorBox = document.getElementById("auth-error");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  errorBox.hidden = true;
  const mode = form.dataset.mode;
  const body = { username: form.username.value.trim(), password: form.password.value };
  try {
    await Kindred.api("POST", `/api/auth/${mode}`, body);
    const next = new URLSearchParams(window.location.search).get("next");
    window.location.href = next && next.startsWith("/") && !next.startsWith("//") ? next : "/";
  } catch (error) {
    errorBox.textContent = error.message;
    errorBox.hidden = false;
  }
});
