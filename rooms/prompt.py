"""A character's prompt in a room: "swap" mode, on the conversations domain's prompt builder.

    build_room_prompt(session, room, character, history, answering, names, sections, engine,
                      settings) -> conversations.prompt.Prompt

- Swap mode (SillyTavern's): only the speaking character's card is in the prompt (the room's
  scenario, when set, in place of the card's), with a nudge after the history to write only
  that character's next reply; the other characters appear in the history, by name.
- People are named in the history ("Sam: hi"), with their display names.
- Who saw what: `history` is what the character's stints saw
  (rooms.service.history_for_character: no OOC line, no private suggestion, no assistant answer,
  nothing blocked); what is still streaming or empty is left out here too.
- The relationship level that shapes the character is the one with `answering`, the person it
  answers: the registered prompt sections (wired by the app: relationships' level section) get
  that person as their user. Rooms have no conversation: the sections get conversation_id None.
No Flask."""
from dataclasses import dataclass
from typing import Optional

from conversations.prompt import Prompt, PromptExtras, PromptSection, build_prompt
from conversations.sections import PromptContext, PromptSections

ROOM_SECTION = "room"
NUDGE = ("[This is a group chat. Write only {{char}}'s next message, as {{char}}; never write "
         "the lines of anyone else in the room.]")
SHOWN_STATUSES = ("complete", "stopped")  # what a prompt reads: never streaming or error


@dataclass(frozen=True)
class Turn:
    """One history line as conversations.prompt.build_prompt reads it."""
    role: str  # assistant: the speaking character's own lines; user: everyone else's
    content: str
    id: Optional[int] = None


class Cast:
    """The character's card as the room plays it: the room's scenario in place of the card's
    and the group nudge after the card's own post-history instructions. Read-only: the row
    itself is never changed (its session would write it back)."""

    def __init__(self, character, scenario: str = "", nudge: str = NUDGE):
        self._character = character
        own = (character.post_history_instructions or "").strip()
        self._overrides = {"post_history_instructions": f"{own}\n\n{nudge}" if own else nudge}
        if scenario.strip():
            self._overrides["scenario"] = scenario.strip()

    def __getattr__(self, name):
        overrides = self.__dict__.get("_overrides", {})
        if name in overrides:
            return overrides[name]
        return getattr(self.__dict__["_character"], name)


def build_room_prompt(session, room, character, history: list, answering, names: dict,
                      sections: Optional[PromptSections], engine, settings) -> Prompt:
    """`history` (RoomMessage rows, oldest first) as `character` saw it; `answering` the User it
    answers; `names` maps ("user", id) and ("character", id) to display names."""
    answering_name = _person(names, answering)
    turns = room_turns(history, character.id, names)
    cast = Cast(character, room.scenario or "")
    extras = PromptExtras()
    if sections is not None and answering is not None:
        extras = sections.extras(PromptContext(session, answering.id, None, character,
                                               turns, answering_name))
    extras.sections.insert(0, PromptSection(ROOM_SECTION, room_section(room, character,
                                                                       history, names)))
    prompt = build_prompt(cast, turns or [Turn("user", "(The scene begins.)")], answering_name,
                          engine, settings["MAX_CONTEXT_TOKENS"], settings["MAX_NEW_TOKENS"],
                          extras=extras)
    prompt.stop = _unique(prompt.stop + [f"\n{name}:" for name in others(names, character.id)])
    return prompt


def room_turns(history: list, character_id: int, names: dict) -> list[Turn]:
    """The history as prompt turns: the character's own lines as its own, everyone else's
    prefixed with their name. Out-of-character lines, assistant answers, private suggestions,
    blocked, streaming or empty messages never become a turn, whoever passed them in."""
    turns = []
    for message in history:
        if message.ooc or message.speaker == "assistant" or message.private_to is not None \
                or message.status not in SHOWN_STATUSES or not (message.content or "").strip():
            continue
        if message.speaker == "character" and message.character_id == character_id:
            turns.append(Turn("assistant", message.content.strip(), message.id))
            continue
        key = ("character", message.character_id) if message.speaker == "character" \
            else ("user", message.user_id)
        name = names.get(key) or ("Someone" if key[0] == "user" else "Another character")
        turns.append(Turn("user", f"{name}: {message.content.strip()}", message.id))
    return turns


def room_section(room, character, history: list, names: dict) -> str:
    """Who is in the scene, for the system prompt."""
    people = sorted({names[("user", m.user_id)] for m in history
                     if m.speaker == "user" and ("user", m.user_id) in names})
    cast = sorted({names[("character", m.character_id)] for m in history
                   if m.speaker == "character" and m.character_id != character.id
                   and ("character", m.character_id) in names})
    lines = [f"{{{{char}}}} is in a group chat, \"{room.title}\", with several people and "
             f"characters. Each line of the chat starts with the name of who said it."]
    if people:
        lines.append("People in the chat: " + ", ".join(people) + ".")
    if cast:
        lines.append("Other characters: " + ", ".join(cast) + ".")
    return "\n".join(lines)


def others(names: dict, character_id: int) -> list[str]:
    return [name for (kind, key), name in names.items()
            if name and not (kind == "character" and key == character_id)]


def _person(names: dict, user) -> str:
    if user is None:
        return "Someone"
    return names.get(("user", user.id)) or user.display_name or user.username


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
