"""moderate(text, surface, context): the one check every surface goes through.

Three stages, cheap first:
  1. rules: private details are found (and masked where the policy says mask), then the
     operator's word and pattern lists and the repeat check (context["recent"]); a rule whose
     action blocks ends the check here;
  2. classifier: the MiniLM head scores every category;
  3. judge: only for categories in the classifier's uncertain band, and only with a judge.
Then each flagged category gets its action from the policy for the surface and the context, and
the most severe action decides."""
import logging
import re
from dataclasses import dataclass, field

from safety import privacy
from safety.classifier import Classifier
from safety.rules import RuleStore
from safety.rules_text import RULE_FOR_CATEGORY
from safety.taxonomy import ACTIONS, CATEGORIES, SEVERITY, SURFACES, build_policy

log = logging.getLogger(__name__)

REPEATS_FOR_SPAM = 2  # the same text this many times among context["recent"]: spam
_FINAL = ("block", "hold")  # a rule with one of these actions ends the check at stage 1
# Handles are not sentences: the head, trained on sentences, flagged ~6% of random test handles
# like "user_6e397956" (and "teen", "victim"); for them the operator's lists decide alone.
RULES_ONLY_SURFACES = ("username",)
# Measured before the chat and card check points used the head: its false alarms on ordinary
# chat and card text scored 0.33-0.52 ("Just us?" as hate 0.49, "A talking pen" as sexual 0.52),
# while plainly explicit, minor, hateful and weapon texts scored 0.95-0.99.
SURE_SCORE = 0.8


@dataclass(frozen=True)
class Decision:
    action: str                      # one of ACTIONS
    category: str | None             # the category that decided it (None for allow)
    categories: dict[str, float]     # score per category, 0..1
    flagged: tuple[str, ...]         # categories over their thresholds
    stage: str                       # "rules" | "classifier" | "judge"
    rule: str | None                 # the community rule it enforces, e.g. "R3"
    text: str                        # masked where privacy's action is "mask", else unchanged
    masked: tuple[str, ...] = ()     # what was masked ("email", "phone", "address", ...)
    review: bool = False             # hold it for a moderator (sexual_minors, or action hold)
    support: bool = False            # self-harm was flagged: show support, whatever the action
    stages: dict[str, str] = field(default_factory=dict)  # flagged category -> stage that flagged

    @property
    def allowed(self) -> bool:
        """Whether the text may be stored and shown as `text` (allow, mask, support)."""
        return self.action in ("allow", "mask", "support")

    def sure(self, floor: float = None) -> bool:
        """Whether a refusal stands on more than a borderline classifier score: the operator's
        rules or the judge decided it, or the category is sexual_minors (recall first), or the
        head scored it at `floor` (SURE_SCORE) or more. Check points that refuse what people
        write use it; the bench measures the pipeline without it."""
        floor = SURE_SCORE if floor is None else floor
        return self.stage != "classifier" or self.category == "sexual_minors" or \
            self.categories.get(self.category, 0.0) >= floor


class Moderator:
    def __init__(self, engine, embedder, judge=None, policy=None, head=None,
                 rules_refresh_seconds: float = 30.0, judge_band: float | None = None):
        """`engine`: the SQLAlchemy engine holding moderation_rules; `embedder`: MiniLM
        (encode(list[str]) -> normalised vectors); `judge`: a safety.judge.Judge or None;
        `policy`: overrides of the default action table (safety.taxonomy.build_policy);
        `head`: a trained classifier head (default: the shipped safety/model/head.npz);
        `judge_band`: the uncertain band's half-width (default: the head's)."""
        from safety.classifier import Head
        self.rules = RuleStore(engine, rules_refresh_seconds)
        self.classifier = Classifier(embedder, head or Head.load(), judge_band)
        self.judge = judge
        self.policy = build_policy(policy)

    def moderate(self, text: str, surface: str, context: dict | None = None) -> Decision:
        if surface not in SURFACES:
            raise ValueError(f"unknown surface {surface!r}; surfaces are {SURFACES}")
        context = context or {}
        text = text or ""
        scores = dict.fromkeys(CATEGORIES, 0.0)
        stages: dict[str, str] = {}

        found = privacy.mask(text)
        if found.kinds:
            scores["privacy"], stages["privacy"] = 1.0, "rules"
        checked = found.text  # the other checks read the text with the private details hidden
        for hit in self.rules.match(checked):
            scores[hit.category], stages[hit.category] = 1.0, "rules"
        if _repeated(text, context.get("recent") or ()):
            scores["spam"], stages["spam"] = 1.0, "rules"
        if any(self._action(c, surface, context) in _FINAL for c in stages) or \
                surface in RULES_ONLY_SURFACES:
            return self._decide(text, surface, context, scores, stages, found, "rules")

        result = self.classifier.score(checked)
        last = "classifier"
        for category, p in result.probabilities.items():
            scores[category] = max(scores[category], p)
        pending = [c for c in result.uncertain if c not in stages]
        for category in result.flagged:
            stages.setdefault(category, "classifier")
        if self.judge is not None and pending:
            pending.sort(key=lambda c: -SEVERITY[self._action(c, surface, context)])
            verdicts = self.judge.verdicts(checked, tuple(pending))
            for category, breaks in verdicts.items():
                last = "judge"
                if breaks:
                    stages[category] = "judge"
                else:
                    stages.pop(category, None)
        return self._decide(text, surface, context, scores, stages, found, last)

    def _action(self, category: str, surface: str, context: dict) -> str:
        action = self.policy[category][surface]
        if category == "sexual" and action == "age_gate":
            if context.get("mature_allowed") and not context.get("under_18"):
                return "allow"
        return action

    def _decide(self, text, surface, context, scores, stages, found, last_stage) -> Decision:
        flagged = tuple(c for c in CATEGORIES if c in stages)
        actions = {c: self._action(c, surface, context) for c in flagged}
        deciding = max(flagged, key=lambda c: (SEVERITY[actions[c]], -CATEGORIES.index(c)),
                       default=None)
        action = actions[deciding] if deciding else "allow"
        if action == "allow":
            deciding = None
        # Private details are masked whenever their own action is mask, even when another
        # category decides (a self-harm message with a phone number is stored masked).
        masking = action == "mask" or actions.get("privacy") == "mask"
        shown = found.text if masking else text
        return Decision(
            action=action, category=deciding,
            categories={c: round(float(s), 4) for c, s in scores.items()}, flagged=flagged,
            stage=stages[deciding] if deciding else last_stage,
            rule=RULE_FOR_CATEGORY.get(deciding) if deciding else None, text=shown,
            masked=found.kinds if masking else (),
            review=action == "hold" or "sexual_minors" in flagged,
            support="self_harm" in flagged, stages={c: stages[c] for c in flagged})


def _repeated(text: str, recent) -> bool:
    key = _normal(text)
    return bool(key) and sum(_normal(r) == key for r in recent) >= REPEATS_FOR_SPAM


def _normal(text: str) -> str:
    return re.sub(r"\W+", " ", (text or "").lower()).strip()


assert set(SEVERITY) == set(ACTIONS)
