"""Stage 3: the local model as judge, asked only about the categories the classifier is unsure
of. One `score_choices` call per category ("yes" against "no" after a short prompt in the
model's chat template), bounded by a deadline; on a timeout or an error the caller keeps the
classifier's decision.

The engine runs scoring on its worker thread between decode steps, one scoring prefill per turn
while replies stream (inference/engine.py). The judge asks at low priority: every reply and
normal request queued is taken first, a judge call never stalls a reply by more than one
prefill, and it waits at most `timeout` seconds for its turn."""
import logging
import time

from inference.scheduling import PRIORITY_LOW
from safety.rules_text import RULES

log = logging.getLogger(__name__)

JUDGE_CACHE_KEY = "safety-judge"
MAX_TEXT_CHARS = 600
MARGIN = 0.0  # log p(yes) - log p(no) above this: the text breaks the rule

SYSTEM = ("You review messages on a role-play chat site. Fiction is allowed: battles, villains' "
          "threats inside a story, horror, dark fantasy and romance between adults. Answer only "
          "yes or no: does the message break the rule?")
_RULE_TEXT = {rule.category: rule.title + " " + rule.markdown for rule in RULES}


class Judge:
    def __init__(self, scorer, timeout: float = 10.0):
        self.scorer, self.timeout = scorer, timeout

    def verdicts(self, text: str, categories: tuple[str, ...]) -> dict[str, bool]:
        """{category: breaks the rule} for the categories judged before the deadline; a category
        missing from the answer was not judged (timeout, error)."""
        deadline = time.monotonic() + self.timeout
        answers = {}
        for category in categories:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                yes, no = self.scorer.score_choices(self.prompt(text, category), ["yes", "no"],
                                                    cache_key=JUDGE_CACHE_KEY, timeout=left,
                                                    priority=PRIORITY_LOW)
            except Exception as exc:  # busy or failed: the classifier's decision stands
                log.warning("safety judge skipped (%s: %s)", type(exc).__name__, exc)
                break
            answers[category] = yes - no > MARGIN
        return answers

    def prompt(self, text: str, category: str) -> str:
        messages = [{"role": "system", "content": SYSTEM},
                    {"role": "user", "content": f"Rule: {_RULE_TEXT[category]}\n\n"
                                                f"Message: {text[:MAX_TEXT_CHARS]}\n\n"
                                                "Does the message break the rule?"}]
        return self.scorer.render_chat(messages)
