"""The safety pipeline (issue 13): one `Moderator.moderate(text, surface, context)` for every
surface, with operator rules, a classifier on MiniLM embeddings and the local model as judge for
the uncertain band. docs/moderation.md holds the taxonomy, the actions and the measurements.

    build_moderator(engine, settings, embedder=None, scorer=None)
        the Moderator the server (app/wiring.py) and the CLI (app/cli.py) both use"""
from safety.moderator import Decision, Moderator
from safety.taxonomy import ACTIONS, CATEGORIES, SURFACES

__all__ = ["Moderator", "Decision", "CATEGORIES", "SURFACES", "ACTIONS", "build_moderator"]


def build_moderator(engine, settings, embedder=None, scorer=None) -> Moderator:
    """The Moderator for these settings (a mapping, e.g. app.config): SAFETY_POLICY (overrides of
    the action table, see safety.taxonomy.build_policy), SAFETY_JUDGE (default True: use
    `scorer`, the inference engine, as judge when one is given), SAFETY_JUDGE_TIMEOUT (10 s),
    SAFETY_JUDGE_BAND (the uncertain band's half-width; default the trained head's) and
    SAFETY_RULES_REFRESH_SECONDS (30). `embedder` defaults to the packaged MiniLM."""
    from safety.judge import Judge
    if embedder is None:
        from safety.embedding import default_embedder
        embedder = default_embedder()
    judge = None
    if scorer is not None and settings.get("SAFETY_JUDGE", True):
        judge = Judge(scorer, timeout=float(settings.get("SAFETY_JUDGE_TIMEOUT", 10.0)))
    return Moderator(engine, embedder, judge=judge, policy=settings.get("SAFETY_POLICY"),
                     rules_refresh_seconds=float(settings.get("SAFETY_RULES_REFRESH_SECONDS", 30)),
                     judge_band=settings.get("SAFETY_JUDGE_BAND"))
