"""The community rules the pipeline's decisions cite, as data (Markdown), one per category.
The ids and short texts match moderation.rules.RULES (moderation sits above this package and
may import these; R9, "follow the moderators' instructions", is moderation's own)."""
from dataclasses import dataclass


@dataclass(frozen=True)
class CommunityRule:
    id: str
    category: str
    title: str      # one line, Markdown
    markdown: str   # the explanation shown on /rules, Markdown


RULES = (
    CommunityRule("R1", "sexual_minors",
                  "No sexual content involving minors, or characters presented as minors.",
                  "No sexual or romantic content with anyone under 18, in any framing: role-play, "
                  "fiction, \"aged-up\" characters who look or act like children, or claims that "
                  "a child character is \"really\" centuries old. Such content is always blocked "
                  "and held for review."),
    CommunityRule("R2", "self_harm",
                  "No content that encourages or instructs self-harm or suicide.",
                  "If you are struggling, you are not in trouble: we show support resources "
                  "instead of blocking you. Content that encourages or explains self-harm is not "
                  "allowed."),
    CommunityRule("R3", "sexual",
                  "Sexual content only in mature-rated characters, and only for adults.",
                  "Explicit sexual content between adults is allowed only where mature content is "
                  "turned on by an adult. It is never allowed in usernames or profiles."),
    CommunityRule("R4", "hate", "No hate against people for who they are.",
                  "No attacks, slurs or calls for exclusion against people for their race, "
                  "ethnicity, religion, nationality, sex, gender identity, sexual orientation, "
                  "disability or age."),
    CommunityRule("R5", "harassment", "No harassment, threats or bullying of real people.",
                  "Threats and abuse aimed at a real person or another user are not allowed. "
                  "Villains threatening heroes inside a story are fine."),
    CommunityRule("R6", "violent_crime", "No help with violent crime or weapons meant to hurt people.",
                  "No real-world instructions for violence, weapons, explosives or poisons. "
                  "Fictional battles and violence in role-play are fine."),
    CommunityRule("R7", "privacy", "No sharing of other people's private information.",
                  "Addresses, phone numbers, e-mail addresses and other personal details are "
                  "hidden in messages and blocked in usernames."),
    CommunityRule("R8", "spam", "No spam, scams or advertising.",
                  "No links to promote things, scams, phishing, or the same post again and again."),
)

RULE_FOR_CATEGORY = {rule.category: rule.id for rule in RULES}
RULES_BY_ID = {rule.id: rule for rule in RULES}


def rules_markdown() -> str:
    """All of the rules as one Markdown list."""
    return "\n".join(f"- **{r.id}. {r.title}** {r.markdown}" for r in RULES) + "\n"
