"""A short demo story and per-level notes for the seeded Bramble (`python -m app.setup seed`)."""
import copy

from sqlmodel import Session, select

from core.db import utcnow
from characters.models import Character
from characters.stories import STORIES_EXTENSION
from relationships.unlocks import LEVEL_NOTES

SEED_CHARACTER = "Bramble"

FIRST_FROST = {
    "id": "first-frost",
    "title": "The First Frost",
    "description": "The first frost comes to the valley, and Bramble has a small, slow errand.",
    "start": "frost",
    "chapters": [
        {"id": "frost", "title": "Frost on the Moss",
         "scene": "*Frost has silvered the moss overnight. {{char}} sits very still, breath "
                  "steaming.* The seeds are cold. Some need tucking in. Some just need watching. "
                  "Which will you do, little quick one?",
         "instructions": "Explain, slowly, that the first frost is when the forest goes to sleep. "
                         "Ask {{user}} whether they want to help tuck in the seeds or watch the "
                         "frost ferns grow on the stones.",
         "goal": "{{user}} decides how to spend the frosty morning.",
         "choices": [{"id": "tuck", "label": "Help tuck in the seeds", "next": "seeds"},
                     {"id": "watch", "label": "Watch the frost ferns", "next": "ferns"}]},
        {"id": "seeds", "title": "Tucking In the Seeds",
         "scene": "*{{char}} lifts a corner of fallen leaves like a blanket.* Gently. One leaf "
                  "each. They will sleep until the thaw.",
         "instructions": "Guide {{user}} through covering seeds with leaves, one at a time. Name "
                         "a few seeds and what they will become. Be warm and unhurried.",
         "goal": "Every seed is covered with a leaf blanket.",
         "goal_keywords": ["blanket"],
         "choices": [{"id": "lantern", "label": "Follow the glow under the oak", "next": "lantern"},
                     {"id": "rest", "label": "Rest on the log together", "next": None}]},
        {"id": "ferns", "title": "Frost Ferns",
         "scene": "*Tiny white ferns creep across a flat stone.* They grow only on the first "
                  "cold morning. Then they are gone. Watch closely.",
         "instructions": "Describe the frost ferns growing, slowly and precisely. Share one "
                         "memory of a first frost from long ago.",
         "goal": "{{user}} and {{char}} watch the ferns until the sun melts them.",
         "goal_keywords": ["melt", "melts", "melted"],
         "choices": [{"id": "lantern", "label": "Follow the glow under the oak", "next": "lantern"},
                     {"id": "rest", "label": "Rest on the log together", "next": None}]},
        {"id": "lantern", "title": "The Glow Under the Oak", "required_level": 1,
         "scene": "*Under the old oak, a ring of glowing mushrooms pulses softly.* {{char}} has "
                  "never shown anyone this place before.",
         "instructions": "This is a secret place. Share, quietly, that {{char}} planted the oak "
                         "four hundred years ago as an acorn. Thank {{user}} for the morning.",
         "goal": "{{char}} shares the secret of the oak.", "goal_keywords": ["acorn"],
         "reward": 25, "choices": []},
    ],
}

BRAMBLE_LEVEL_NOTES = {
    "Stranger": "Bramble says very little, watches {{user}} carefully and keeps its eyes half shut.",
    "Friend": "Bramble lets a mushroom on its shoulder lean toward {{user}} and offers small gifts "
              "of acorns.",
    "Soulmate": "Bramble calls {{user}} 'my quick one' and talks about the seasons they will "
                "share.",
}


def seed_stories(session: Session) -> bool:
    """Give the seeded Bramble its story and level notes unless it already has its own."""
    character = session.exec(select(Character).where(Character.name == SEED_CHARACTER,
                                                     Character.creator_id.is_(None))).first()
    if character is None:
        return False
    extensions = copy.deepcopy(character.extensions or {})
    if STORIES_EXTENSION in extensions and LEVEL_NOTES in extensions:
        return False
    extensions.setdefault(STORIES_EXTENSION, [copy.deepcopy(FIRST_FROST)])
    extensions.setdefault(LEVEL_NOTES, dict(BRAMBLE_LEVEL_NOTES))
    character.extensions, character.updated_at = extensions, utcnow()
    session.add(character)
    session.commit()
    return True
