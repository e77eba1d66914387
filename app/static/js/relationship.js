// The chat page's relationship bits: level meter, level-up celebration, stories and story choices.
// Loaded after chat.js, whose `socket`, `conversationId`, `refresh` and `showError` it reuses.
(() => {
  const { api, el } = Kindred;
  const box = document.getElementById("relationship");
  const celebration = document.getElementById("level-up");
  const panel = document.getElementById("story-panel");
  const storiesBox = document.getElementById("stories");
  let characterId = null;

  socket.on("relationship:update", (state) => { if (state.character_id === characterId) showLevel(state); });
  socket.on("relationship:level_up", (event) => { if (event.character_id === characterId) celebrate(event); });
  socket.on("story:update", ({ conversation_id, progress }) => {
    if (conversation_id === conversationId) showStory(progress);
  });

  async function load() {
    const { conversation } = await api("GET", `/api/conversations/${conversationId}`);
    characterId = conversation.character_id;
    showLevel(await api("GET", `/api/relationships/${characterId}`));
    const { progress } = await api("GET", `/api/story-progress?conversation_id=${conversationId}`);
    showStory(progress);
    showStories((await api("GET", `/api/characters/${characterId}/stories`)).stories);
  }

  function showLevel(state) {
    const start = state.level_at ?? 0;
    const next = state.next_level_at;
    document.getElementById("relationship-level").textContent = state.level_name;
    const meter = document.getElementById("relationship-meter");
    meter.max = next === null ? 1 : next - start;
    meter.value = next === null ? 1 : state.affinity - start;
    document.getElementById("relationship-points").textContent =
      next === null ? `${state.affinity}` : `${state.affinity}/${next}`;
    box.title = next === null ? "Highest level reached" : `${next - state.affinity} points to the next level`;
    box.dataset.level = state.level;
    box.hidden = false;
  }

  function celebrate(event) {
    const unlocked = event.unlocked.map((item) => el("li", {}, `${labelOf(item.type)}: ${item.label}`));
    celebration.replaceChildren(
      el("strong", {}, `Level up! You are now ${event.level_name}.`),
      unlocked.length ? el("ul", { class: "unlocked" }, el("li", { class: "muted" }, "Unlocked:"), ...unlocked) : "",
      el("button", { class: "link dismiss", onclick: () => { celebration.hidden = true; } }, "Close"));
    celebration.hidden = false;
    celebration.classList.remove("burst");
    void celebration.offsetWidth;  // restart the animation
    celebration.classList.add("burst");
    load().catch(() => {});  // locks on story choices may have opened
  }

  function showStory(progress) {
    if (!progress) { panel.hidden = true; return; }
    document.getElementById("story-title").textContent = progress.story_title;
    document.getElementById("story-chapter").textContent =
      progress.status === "finished" ? "The end" : progress.chapter.title;
    document.getElementById("story-goal").textContent =
      progress.status === "finished" ? "" : progress.chapter.goal + (progress.chapter.completed ? " ✓" : "");
    const choices = progress.chapter.choices.map((choice) => el("button", {
      class: `choice${choice.locked ? " locked" : ""}`, "data-choice-id": choice.id,
      disabled: choice.locked ? "" : null,
      title: choice.locked ? `Opens at ${choice.required_level_name}` : null,
      onclick: () => choose(progress.id, choice.id),
    }, choice.locked ? `🔒 ${choice.label} (${choice.required_level_name})` : choice.label));
    document.getElementById("story-choices").replaceChildren(...choices);
    panel.dataset.chapter = progress.chapter.id || "";
    panel.dataset.status = progress.status;
    panel.hidden = false;
  }

  async function choose(progressId, choiceId) {
    if (streaming) return;
    try {
      const { progress } = await api("POST", `/api/story-progress/${progressId}/choose`, { choice_id: choiceId });
      showStory(progress);
      await refresh();
    } catch (error) { showError(error.message); }
  }

  function showStories(stories) {
    const list = document.getElementById("story-list");
    list.replaceChildren(...stories.map((story) => el("li", {},
      el("strong", {}, story.title), " ",
      el("span", { class: "muted" }, story.description), " ",
      el("button", { class: "start-story", disabled: story.locked ? "" : null,
        title: story.locked ? `Opens at ${story.required_level_name}` : null,
        onclick: () => start(story.id) },
        story.locked ? `🔒 ${story.required_level_name}`
          : story.progress?.status === "active" ? "Resume" : "Start"),
      paidOffer(story))));
    storiesBox.hidden = stories.length === 0;
  }

  // Paid content: the price of a story not bought yet (its first chapter may be a free preview).
  function paidOffer(story) {
    if (story.price == null || story.unlocked) return null;
    return el("span", { class: "story-price" }, " ",
      el("span", { class: "muted" }, story.free_preview ? "First chapter free · " : ""),
      el("button", { class: "buy-story", "data-price": story.price, onclick: () => buy(story) },
        `Buy for ${story.price} gems`));
  }

  async function buy(story) {
    try {
      const key = window.crypto?.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
      await api("POST", "/api/purchases", { kind: "story", id: story.id, idempotency_key: key });
      showStories((await api("GET", `/api/characters/${characterId}/stories`)).stories);
    } catch (error) { showError(error.message); }
  }

  async function start(storyId) {
    try {
      const { conversation_id } = await api("POST", `/api/stories/${storyId}/start`);
      window.location.href = `/chat/${conversation_id}`;
    } catch (error) { showError(error.message); }
  }

  function labelOf(type) {
    return { greeting: "New greeting", lore: "Lore", story: "Story", chapter: "Chapter" }[type] || type;
  }

  load().catch((error) => showError(error.message));
})();
