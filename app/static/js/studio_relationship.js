// The studio's relationship editor: a behaviour note per level (extensions["kindred/levels"], saved
// as an object keyed by level name) and branching stories (extensions["kindred/stories"], the format
// is in relationships/story.py). studio.js loads it with the character and, on save, sends
// extensions() (the card's extensions as loaded, with these two keys replaced, so other keys stay).
const StudioRelationship = (() => {
  const { api, el } = Kindred;
  const NOTES = "kindred/levels";
  const STORIES = "kindred/stories";
  const UNKNOWN_LEVEL = "__unknown__";
  const MISSING = "missing:";
  let levels = [];       // [{level, name, at}] as configured on the server
  let base = null;       // the card's extensions as loaded; null until loaded
  let keptNotes = {};    // notes under keys that name no configured level: kept as they are
  let nextUid = 1;
  const knownIds = new Map();  // chapter uid -> its id when last seen (names deleted chapters)

  async function load(characterId) {
    const query = characterId ? `?character_id=${characterId}` : "";
    const setup = await api("GET", `/api/studio/relationship-setup${query}`);
    levels = setup.levels;
    base = structuredClone(setup.extensions || {});
    renderNotes(base[NOTES]);
    renderStories(Array.isArray(base[STORIES]) ? base[STORIES] : []);
    showStoredProblems(setup.story_problems || []);
  }

  function ready() { return base !== null; }

  function hasContent() {
    return ready() && (Object.keys(collectNotes()).length > 0 ||
      document.querySelectorAll("#stories > .story").length > 0);
  }

  // The card's extensions with the notes and stories of the editor in place of the loaded ones.
  function extensions() {
    if (!ready()) throw new Error("The relationship editor has not loaded yet; reload the page.");
    markProblems([]);
    const next = structuredClone(base);
    const notes = collectNotes();
    if (Object.keys(notes).length) next[NOTES] = notes; else delete next[NOTES];
    const stories = collectStories();
    if (stories.length) next[STORIES] = stories; else delete next[STORIES];
    return next;
  }

  // After a refused save: outline the stories the server's message names ("story 2 (...)").
  function showSaveError(error) {
    if (error.code !== "bad_story") return;
    markProblems([...error.message.matchAll(/\bstory (\d+)\b/g)].map((m) => Number(m[1]) - 1));
  }

  // Levels

  function parseLevel(value) {  // as relationships/affinity.py Levels.parse
    if (typeof value === "boolean") return null;
    if (Number.isInteger(value)) return Math.min(Math.max(value, 0), levels.length - 1);
    if (typeof value === "string") {
      const text = value.trim().toLowerCase();
      const index = levels.findIndex((l) => l.name.toLowerCase() === text);
      if (index >= 0) return index;
      if (/^\d+$/.test(text)) return parseLevel(Number(text));
    }
    return null;
  }

  function levelSelect(cls, value) {
    const select = el("select", { class: cls },
      ...levels.map((l) => el("option", { value: l.name },
        l.level === 0 ? `${l.name} (everyone)` : `${l.name} (level ${l.level}, ${l.at} points)`)));
    const parsed = value === undefined || value === null ? 0 : parseLevel(value);
    if (parsed === null) {  // shown, and sent back as it was, so the server names the problem
      select.append(el("option", { value: UNKNOWN_LEVEL }, `unknown level ${JSON.stringify(value)}`));
      select.unknownValue = value;
      select.value = UNKNOWN_LEVEL;
    } else {
      select.value = levels[parsed].name;
    }
    return select;
  }

  function levelValue(select) {
    if (select.value === UNKNOWN_LEVEL) return select.unknownValue;
    const level = parseLevel(select.value);
    return level ? levels[level].name : 0;
  }

  // Per-level notes

  function renderNotes(raw) {
    const notes = levels.map(() => "");
    keptNotes = {};
    if (Array.isArray(raw)) {
      raw.slice(0, levels.length).forEach((note, i) => { notes[i] = typeof note === "string" ? note : ""; });
    } else if (raw && typeof raw === "object") {
      const taken = new Set();
      for (const [key, note] of Object.entries(raw)) {
        const level = parseLevel(key);
        if (level === null) { keptNotes[key] = note; continue; }
        if (taken.has(level)) continue;  // the app reads the first key naming a level
        taken.add(level);
        notes[level] = typeof note === "string" ? note : "";
      }
    }
    document.getElementById("level-notes").replaceChildren(...levels.map((l, i) =>
      el("label", { class: "level-note-row" },
        `${l.name} `, el("span", { class: "muted small" }, l.level === 0 ? "(everyone at first)" : `(from ${l.at} points)`),
        el("textarea", { class: "level-note", rows: 2, "data-level-name": l.name,
          placeholder: "How {{char}} treats {{user}} at this level" }, notes[i]))));
    const kept = Object.keys(keptNotes);
    const hint = document.getElementById("kept-notes");
    hint.hidden = !kept.length;
    hint.textContent = kept.length ? `Also kept as they are: notes for ${kept.map((k) => JSON.stringify(k)).join(", ")}, `
      + "which name no level of this server." : "";
  }

  function collectNotes() {
    const notes = {};
    for (const box of document.querySelectorAll("#level-notes .level-note")) {
      if (box.value.trim()) notes[box.dataset.levelName] = box.value.trim();
    }
    for (const [key, note] of Object.entries(keptNotes)) if (!(key in notes)) notes[key] = note;
    return notes;
  }

  // Stories

  function renderStories(stories) {
    knownIds.clear();
    const rows = stories.filter((s) => s && typeof s === "object" && !Array.isArray(s)).map(storyRow);
    document.getElementById("stories").replaceChildren(...rows);
    rows.forEach(refreshChapterSelects);
  }

  function showStoredProblems(problems) {
    const box = document.getElementById("stored-story-problems");
    box.hidden = !problems.length;
    box.replaceChildren(...(problems.length ? [
      el("strong", {}, "These stored stories do not load, so nobody can play them. Fix them here and save:"),
      el("ul", {}, ...problems.map((p) => el("li", {}, p)))] : []));
  }

  function markProblems(indexes) {
    document.querySelectorAll("#stories > .story").forEach((row, i) =>
      row.classList.toggle("has-problem", indexes.includes(i)));
  }

  const text = (value) => (typeof value === "string" ? value : "");
  const field = (label, input, cls) => el("label", { class: cls }, label, input);

  function storyRow(story) {
    const row = el("li", { class: "story" });
    row.original = story;
    const chapters = el("ol", { class: "chapters" }, ...(Array.isArray(story.chapters) ? story.chapters : [])
      .filter((c) => c && typeof c === "object" && !Array.isArray(c)).map(chapterRow));
    const start = el("select", { class: "story-start" });
    start.initial = story.start;  // an id: refreshChapterSelects finds its row
    row.append(
      el("div", { class: "story-head" }, el("h3", {}, "Story"),
        el("button", { type: "button", class: "link remove-story", onclick: () => row.remove() }, "Remove story")),
      el("div", { class: "grid2" },
        field("Title", el("input", { class: "story-title", value: text(story.title), maxlength: 4000 })),
        field("Id ", idInput("story-id", story.id, "from the title"))),
      field("Description", el("textarea", { class: "story-description", rows: 2 }, text(story.description))),
      el("div", { class: "grid2" },
        field("Required level", levelSelect("story-level", story.required_level)),
        field("Starts with", start)),
      chapters,
      el("button", { type: "button", class: "add-chapter", onclick: () => {
        chapters.append(chapterRow({}));
        refreshChapterSelects(row);
      } }, "Add chapter"));
    row.addEventListener("input", (event) => {
      if (event.target.matches(".chapter-title, .chapter-id")) refreshChapterSelects(row);
    });
    return row;
  }

  function chapterRow(chapter) {
    const row = el("li", { class: "chapter", "data-uid": `c${nextUid++}` });
    row.original = chapter;
    const choices = el("ul", { class: "choices" },
      ...(Array.isArray(chapter.choices) ? chapter.choices : []).filter((c) => c && typeof c === "object").map(choiceRow));
    const keywords = Array.isArray(chapter.goal_keywords) ? chapter.goal_keywords.filter((k) => typeof k === "string") : [];
    const reward = Number.isInteger(chapter.reward) ? chapter.reward : "";
    row.append(
      el("div", { class: "chapter-head" }, el("h4", {}, "Chapter"),
        el("button", { type: "button", class: "link remove-chapter", onclick: () => {
          const story = row.closest(".story");
          row.remove();
          refreshChapterSelects(story);
        } }, "Remove chapter")),
      el("div", { class: "grid2" },
        field("Title", el("input", { class: "chapter-title", value: text(chapter.title), maxlength: 4000 })),
        field("Id ", idInput("chapter-id", chapter.id, "from the title"))),
      field("Scene (the opening message of the chapter)", el("textarea", { class: "chapter-scene", rows: 2 }, text(chapter.scene))),
      field("{{char}}'s instructions for this chapter", el("textarea", { class: "chapter-instructions", rows: 2 }, text(chapter.instructions))),
      field("Goal", el("input", { class: "chapter-goal", value: text(chapter.goal) })),
      el("div", { class: "grid3" },
        field("Goal keywords (comma-separated)", el("input", { class: "chapter-keywords", value: keywords.join(", "), placeholder: "lantern, tea" })),
        field("Required level", levelSelect("chapter-level", chapter.required_level)),
        field("Reward (affinity points)", el("input", { type: "number", class: "chapter-reward", min: 0, max: 1000, step: 1,
          value: reward, placeholder: "default" }))),
      el("p", { class: "muted small" }, "Choices (none: the chapter ends the story once its goal is reached)"),
      choices,
      el("button", { type: "button", class: "add-choice", onclick: () => {
        const choice = choiceRow({});
        choices.append(choice);
        refreshChapterSelects(row.closest(".story"));
      } }, "Add choice"));
    return row;
  }

  function choiceRow(choice) {
    const row = el("li", { class: "choice" });
    row.original = choice;
    const next = el("select", { class: "choice-next" });
    next.initial = choice.next ?? null;
    row.append(el("div", { class: "choice-fields" },
      field("Label", el("input", { class: "choice-label", value: text(choice.label), placeholder: "Stay for tea" })),
      field("Id ", idInput("choice-id", choice.id, "from the label")),
      field("Leads to", next),
      el("button", { type: "button", class: "link remove-choice", onclick: () => row.remove() }, "Remove")));
    return row;
  }

  function idInput(cls, value, placeholder) {
    return el("input", { class: cls, value: typeof value === "string" ? value : "", maxlength: 80,
      placeholder, pattern: "[A-Za-z0-9][A-Za-z0-9_.\\-]*", title: "letters, digits, '-', '_' or '.'" });
  }

  function chapterLabel(row, index) {
    const title = row.querySelector(".chapter-title").value.trim();
    const id = row.querySelector(".chapter-id").value.trim();
    return `${index + 1}. ${title || id || "untitled chapter"}`;
  }

  // Rebuild the chapter selects of a story (after a chapter is added, removed or renamed),
  // keeping each selection; a choice or start whose chapter is gone says so instead of changing.
  function refreshChapterSelects(story) {
    if (!story) return;
    const rows = [...story.querySelectorAll(".chapters > .chapter")];
    rows.forEach((row) => knownIds.set(row.dataset.uid, chapterIdHint(row)));
    const options = rows.map((row, i) => el("option", { value: row.dataset.uid }, chapterLabel(row, i)));
    const missing = (value) => {
      const id = value.startsWith(MISSING) ? value.slice(MISSING.length) : knownIds.get(value) || value;
      return el("option", { value: `${MISSING}${id}` }, `missing chapter "${id}"`);
    };
    const live = new Set(rows.map((row) => row.dataset.uid));
    const rebuild = (select, current, extra) => {
      const keep = current && !live.has(current) ? missing(current) : null;
      select.replaceChildren(...extra, ...options.map((o) => o.cloneNode(true)), ...(keep ? [keep] : []));
      select.value = keep ? keep.value : current;
      if (select.selectedIndex < 0) select.selectedIndex = 0;
    };
    for (const select of story.querySelectorAll(".choice-next")) {
      const current = select.options.length ? select.value : refForId(story, select.initial);
      rebuild(select, current, [el("option", { value: "" }, "ends the story")]);
    }
    const start = story.querySelector(".story-start");
    rebuild(start, start.options.length ? start.value : refForId(story, start.initial), []);
  }

  // How a select refers to a chapter given by id: its row's uid, "" for none, "missing:<id>".
  function refForId(story, id) {
    if (id === null || id === undefined || id === "") return "";
    const row = [...story.querySelectorAll(".chapters > .chapter")]
      .find((r) => r.querySelector(".chapter-id").value.trim() === id);
    return row ? row.dataset.uid : `${MISSING}${id}`;
  }

  function chapterIdHint(row) {
    return row.querySelector(".chapter-id").value.trim() || slug(row.querySelector(".chapter-title").value) || "chapter";
  }

  // Collecting: ids left empty come from the title (or label), made unique, and are written back
  // into the form so the next save keeps them even when the title changes.

  function collectStories() {
    const rows = [...document.querySelectorAll("#stories > .story")];
    assignIds(rows.map((r) => r.querySelector(".story-id")), rows.map((r) => r.querySelector(".story-title").value), "story");
    return rows.map(collectStory);
  }

  function collectStory(row) {
    const chapterRows = [...row.querySelectorAll(".chapters > .chapter")];
    assignIds(chapterRows.map((r) => r.querySelector(".chapter-id")),
      chapterRows.map((r) => r.querySelector(".chapter-title").value), "chapter");
    const idOf = new Map(chapterRows.map((r) => [r.dataset.uid, r.querySelector(".chapter-id").value.trim()]));
    const refToId = (value) => (value === "" ? null
      : value.startsWith(MISSING) ? value.slice(MISSING.length) : idOf.get(value) ?? value);
    const story = { ...row.original };
    story.id = row.querySelector(".story-id").value.trim();
    story.title = row.querySelector(".story-title").value.trim();
    story.description = row.querySelector(".story-description").value.trim();
    story.required_level = levelValue(row.querySelector(".story-level"));
    story.chapters = chapterRows.map((r) => collectChapter(r, refToId));
    const start = refToId(row.querySelector(".story-start").value);
    if (start === null) delete story.start; else story.start = start;
    return story;
  }

  function collectChapter(row, refToId) {
    const chapter = { ...row.original };
    const value = (cls) => row.querySelector(cls).value.trim();
    chapter.id = value(".chapter-id");
    chapter.title = value(".chapter-title");
    chapter.scene = value(".chapter-scene");
    chapter.instructions = value(".chapter-instructions");
    chapter.goal = value(".chapter-goal");
    chapter.goal_keywords = value(".chapter-keywords").split(",").map((k) => k.trim()).filter(Boolean);
    chapter.required_level = levelValue(row.querySelector(".chapter-level"));
    const reward = value(".chapter-reward");
    if (reward === "") delete chapter.reward; else chapter.reward = Number(reward);
    const choiceRows = [...row.querySelectorAll(".choices > .choice")];
    assignIds(choiceRows.map((r) => r.querySelector(".choice-id")),
      choiceRows.map((r) => r.querySelector(".choice-label").value), "choice");
    chapter.choices = choiceRows.map((r) => ({ ...r.original,
      id: r.querySelector(".choice-id").value.trim(),
      label: r.querySelector(".choice-label").value.trim(),
      next: refToId(r.querySelector(".choice-next").value) }));
    return chapter;
  }

  // Empty id inputs get slug(text), unique among the ids of the same list ("-2", "-3", ...).
  // Ids a creator typed are kept as typed: the server says if two are the same.
  function assignIds(inputs, texts, fallback) {
    const taken = new Set(inputs.map((input) => input.value.trim()).filter(Boolean));
    inputs.forEach((input, i) => {
      if (input.value.trim()) return;
      const stem = slug(texts[i]) || fallback;
      let id = stem;
      for (let n = 2; taken.has(id); n++) id = `${stem}-${n}`;
      taken.add(id);
      input.value = id;
    });
  }

  function slug(value) {
    return value.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/[^a-z0-9]+/g, "-").replace(/^-+/, "").slice(0, 70).replace(/-+$/, "");
  }

  function addStory() {
    const row = storyRow({ chapters: [{}] });
    document.getElementById("stories").append(row);
    refreshChapterSelects(row);
    row.querySelector(".story-title").focus();
  }

  document.getElementById("add-story").addEventListener("click", addStory);
  return { load, ready, hasContent, extensions, showSaveError, slug };
})();
