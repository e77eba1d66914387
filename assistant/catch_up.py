"""'Catch me up': a short summary of what the asker missed since the last message they read,
made from the others' messages after `last_read_id` (their own are no news to them)."""
from assistant.generate import fit, lines
from assistant.plan import Plan

MAX_MISSED = 80  # the newest messages read at most
BUDGET_TOKENS = 1500
SYSTEM = ("You are the assistant of a group chat. Someone was away; tell them in a few short "
          "sentences what the others said while they were gone: who said what, what was "
          "decided, and any question left for them. Name people. Do not invent anything.")


def missed(conversation: list[dict], asker_id: int, last_read_id: int | None) -> list[dict]:
    return [m for m in conversation
            if (last_read_id is None or m["id"] > last_read_id)
            and not (m["speaker"] == "user" and m["user_id"] == asker_id)]


def plan(engine, conversation: list[dict], asker_id: int, last_read_id: int | None,
         asker_name: str) -> Plan:
    news = missed(conversation, asker_id, last_read_id)
    if not news:
        return Plan("catch_up", [], text="You are all caught up: nothing new since you last read.")
    used = fit(news[-MAX_MISSED:], engine, BUDGET_TOKENS)
    skipped = len(news) - len(used)
    intro = f"({skipped} earlier messages are not shown.)\n" if skipped else ""
    user = (f"Messages {asker_name} missed:\n{intro}{lines(used)}\n\n"
            f"Catch {asker_name} up in at most four sentences.")
    # Greedy: a summary of the same messages reads the same each time, and sampling only added
    # invented detail (a catch-up about a phone charger and a lottery, in CI).
    return Plan("catch_up", used, SYSTEM, user, max_new_tokens=160, temperature=0.0)

