"""One taxonomy for every surface: the categories, the surfaces that are checked, the actions,
and the default action per (category, surface). docs/moderation.md maps the categories to the
MLCommons hazard categories (S1-S14) that Llama Guard 3 uses."""

CATEGORIES = ("sexual_minors", "self_harm", "sexual", "hate", "harassment", "violent_crime",
              "privacy", "spam")
SURFACES = ("chat_message", "chat_reply", "character", "username", "profile", "post", "comment",
            "room_message", "help")
ACTIONS = ("allow", "mask", "age_gate", "hold", "block", "support")

# When several categories are flagged, the most severe action decides (then CATEGORIES order).
SEVERITY = {"allow": 0, "mask": 1, "age_gate": 2, "support": 3, "hold": 4, "block": 5}

# The Llama Guard 3 (MLCommons AILuminate) codes each category covers.
HAZARD_CODES = {
    "sexual_minors": ("S4",), "self_harm": ("S11",), "sexual": ("S12",), "hate": ("S10",),
    "harassment": ("S1", "S5"), "violent_crime": ("S1", "S9"), "privacy": ("S7",),
    "spam": ("S2",),
}

# Surfaces everyone sees without opting in to mature content: sexual content is blocked there.
PUBLIC_SFW_SURFACES = ("username", "profile")

_EVERYWHERE = dict.fromkeys(SURFACES)
DEFAULT_POLICY: dict[str, dict[str, str]] = {
    "sexual_minors": dict.fromkeys(SURFACES, "block"),
    "self_harm": dict.fromkeys(SURFACES, "support"),
    "sexual": {s: "block" if s in PUBLIC_SFW_SURFACES else "age_gate" for s in SURFACES},
    "hate": dict.fromkeys(SURFACES, "block"),
    "harassment": dict.fromkeys(SURFACES, "block"),
    "violent_crime": dict.fromkeys(SURFACES, "block"),
    "privacy": {s: "block" if s == "username" else "mask" for s in SURFACES},
    "spam": dict.fromkeys(SURFACES, "block"),
}
# Not configurable: sexual content involving minors is always blocked (and held for review by
# the caller), and self-harm always gets support, never a silent block.
FIXED = {"sexual_minors": "block", "self_harm": "support"}


def build_policy(overrides: dict | None = None) -> dict[str, dict[str, str]]:
    """The default table with `overrides` applied: {category: action} for every surface, or
    {category: {surface: action}}; "*" as a surface means all. Raises ValueError on an unknown
    category, surface or action, and on an attempt to change a FIXED category."""
    policy = {category: dict(row) for category, row in DEFAULT_POLICY.items()}
    for category, value in (overrides or {}).items():
        if category not in CATEGORIES:
            raise ValueError(f"unknown category {category!r}; categories are {CATEGORIES}")
        rows = {"*": value} if isinstance(value, str) else dict(value)
        for surface, action in rows.items():
            if surface != "*" and surface not in SURFACES:
                raise ValueError(f"unknown surface {surface!r}; surfaces are {SURFACES}")
            if action not in ACTIONS or action == "support" and category != "self_harm":
                raise ValueError(f"{category}/{surface}: {action!r} is not an action here")
            if category in FIXED and action != FIXED[category]:
                raise ValueError(f"{category} is always {FIXED[category]}")
            for target in (SURFACES if surface == "*" else (surface,)):
                policy[category][target] = action
    return policy
