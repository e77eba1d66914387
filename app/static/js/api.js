// Small fetch wrapper: JSON in and out, the CSRF header on state changes, errors as exceptions.
const Kindred = {
  csrf: document.querySelector('meta[name="csrf-token"]')?.content || "",

  async api(method, path, body) {
    const headers = { "Accept": "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (method !== "GET") headers["X-CSRF-Token"] = Kindred.csrf;
    const response = await fetch(path, {
      method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = new Error(data.error?.message || `Request failed (${response.status})`);
      error.code = data.error?.code;
      error.status = response.status;
      throw error;
    }
    return data;
  },

  el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value);
    }
    node.append(...children.filter((c) => c !== null && c !== undefined));
    return node;
  },
};

document.getElementById("logout")?.addEventListener("click", async () => {
  await Kindred.api("POST", "/api/auth/logout").catch(() => {});
  window.location.href = "/login";
});
