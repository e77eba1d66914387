// The help desk: ask a question (POST /api/help/ask), show the answer with its source pages, and
// offer a support ticket (POST /api/help/tickets), first of all when the answer is not sure.
(() => {
  const form = document.getElementById("help-form");
  const question = document.getElementById("help-question");
  const askButton = document.getElementById("help-ask");
  const errorBox = document.getElementById("help-error");
  const busy = document.getElementById("help-busy");
  const answer = document.getElementById("help-answer");
  const answerText = document.getElementById("help-answer-text");
  const sources = document.getElementById("help-sources");
  const sourceList = document.getElementById("help-source-list");
  const ticket = document.getElementById("help-ticket");
  const ticketOffer = document.getElementById("help-ticket-offer");
  const ticketForm = document.getElementById("ticket-form");
  const details = document.getElementById("ticket-details");
  const ticketDone = document.getElementById("ticket-done");
  let asked = "";

  function showError(error) {
    errorBox.textContent = error ? error.message : "";
    errorBox.hidden = !error;
  }

  function showAnswer(result) {
    answerText.textContent = result.answer;
    answer.classList.toggle("unsure", !result.confident);
    answer.dataset.confident = String(result.confident);
    sourceList.replaceChildren(...result.sources.map((source) => Kindred.el("li", {},
      Kindred.el("a", { href: source.url, class: "help-source" },
        `${source.page}: ${source.heading}`))));
    sources.hidden = !result.sources.length;
    answer.hidden = false;
    ticketOffer.textContent = result.confident
      ? "Not what you needed? Open a support ticket and an admin will look into it."
      : "I am not sure about this one. Open a support ticket and an admin will look into it.";
    ticketForm.hidden = false;
    ticketDone.hidden = true;
    ticket.hidden = false;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(null);
    asked = question.value.trim();
    askButton.disabled = true;
    busy.hidden = false;
    try {
      showAnswer(await Kindred.api("POST", "/api/help/ask", { question: asked }));
    } catch (error) {
      showError(error);
    } finally {
      askButton.disabled = false;
      busy.hidden = true;
    }
  });

  ticketForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(null);
    try {
      const made = await Kindred.api("POST", "/api/help/tickets",
        { question: asked, details: details.value });
      ticketForm.hidden = true;
      details.value = "";
      ticketDone.textContent = `Ticket #${made.ticket.id} is open: an admin will look into it.`;
      ticketDone.hidden = false;
    } catch (error) {
      showError(error);
    }
  });
})();
