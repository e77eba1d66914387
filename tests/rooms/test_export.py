"""GET /api/rooms/<id>/export: the room as a SillyTavern group chat, checked by the rules
SillyTavern's own code reads a chat file with (SillyTavern/SillyTavern, src/endpoints/chats.js,
read at commit 00a72b5a71195ec03bab5a42c03655f6ebe672e3):

- `router.post('/import')`, file_type `jsonl`: `lines = data.split('\\n')`, the header is
  `JSON.parse(lines[0])`, refused unless `user_name !== undefined || name !== undefined`;
- `router.post('/group/get')`: `data.split('\\n').map(line => tryParse(line)).filter(x => x)`,
  so a line that is not JSON is silently dropped (we require none is);
- `getChatInfo`: the last line must have `name` (or `character_name`), its `mes` and
  `send_date` are the chat's preview;
- `router.post('/export')` as text: lines with `is_system` are skipped, the others become
  `${name}: ${mes}`.
`send_date` follows src/util.js humanizedISO8601DateTime: `Y-M-D @HHh MMm SSs MSms`."""
import json
import re

import pytest

from tests.rooms import rooms_support
from tests.rooms.rooms_support import join, make_room, say

people = rooms_support.people
SEND_DATE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2} @\d{2}h \d{2}m \d{2}s \d{2,3}ms$")


def sillytavern_import(data: str) -> tuple[dict, list[dict]]:
    """What SillyTavern's jsonl import and group chat read make of the file."""
    lines = data.split("\n")
    header = json.loads(lines[0])
    assert header.get("user_name") is not None or header.get("name") is not None, \
        "SillyTavern refuses this: 'Incorrect chat format .jsonl'"
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except ValueError:
            raise AssertionError(f"SillyTavern would drop this line: {line!r}") from None
    last = parsed[-1]
    assert last.get("name") or last.get("character_name"), "getChatInfo: 'invalid or corrupted'"
    return parsed[0], parsed[1:]


def sillytavern_text(messages: list[dict]) -> str:
    """SillyTavern's text export of the same file."""
    return "".join(f"{m['name']}: {m['mes']}\n\n" for m in messages
                   if not m.get("is_system") and m.get("mes"))


def export(person, room_id):
    response = person.get(f"/api/rooms/{room_id}/export")
    assert response.status_code == 200, response.get_json()
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Content-Disposition"].endswith('.jsonl"')
    return response.get_data(as_text=True)


@pytest.mark.both_databases
def test_a_room_exports_as_a_sillytavern_group_chat(app, people):
    owner, guest = people(2)
    room = make_room(owner, title="Rain at the Lantern", scenario="A storm outside.")
    join(owner, guest, room["id"])
    say(app, room["id"], "Anyone here?\nHello?", user_id=owner.id)
    say(app, room["id"], "Odessa looks up from her map.", speaker="character", character_id=1)
    say(app, room["id"], "I'm here too!", user_id=guest.id)
    say(app, room["id"], "back in 5", user_id=guest.id, ooc=True)
    say(app, room["id"], "Bramble hums.", speaker="character", character_id=2)

    header, messages = sillytavern_import(export(owner, room["id"]))
    assert header["user_name"] == owner.username
    assert header["character_name"] == "Odessa Vane, Bramble"
    assert SEND_DATE.match(header["create_date"])
    assert header["chat_metadata"]["kindred_room"]["title"] == "Rain at the Lantern"
    assert [(m["name"], m["is_user"], m["is_system"], m["mes"]) for m in messages] == [
        (owner.username, True, False, "Anyone here?\nHello?"),
        ("Odessa Vane", False, False, "Odessa looks up from her map."),
        (guest.username, True, False, "I'm here too!"),
        (guest.username, True, True, "back in 5"),
        ("Bramble", False, False, "Bramble hums."),
    ]
    assert all(SEND_DATE.match(m["send_date"]) for m in messages)
    assert sillytavern_text(messages) == (
        f"{owner.username}: Anyone here?\nHello?\n\n"
        f"Odessa Vane: Odessa looks up from her map.\n\n"
        f"{guest.username}: I'm here too!\n\n"
        f"Bramble: Bramble hums.\n\n")


def test_a_private_suggestion_is_only_in_its_askers_export(app, people):
    owner, guest = people(2)
    room = make_room(owner, assistant=True)
    join(owner, guest, room["id"])
    say(app, room["id"], "What should I say?", user_id=guest.id)
    say(app, room["id"], "Try: 'Tell me about the map.'", speaker="assistant", user_id=guest.id,
        private_to=guest.id)
    _, guest_lines = sillytavern_import(export(guest, room["id"]))
    _, owner_lines = sillytavern_import(export(owner, room["id"]))
    assert [m["mes"] for m in guest_lines] == ["What should I say?",
                                               "Try: 'Tell me about the map.'"]
    assert guest_lines[-1]["name"] == "Assistant" and guest_lines[-1]["is_system"] is True
    assert [m["mes"] for m in owner_lines] == ["What should I say?"]


def test_blocked_messages_stay_out_of_the_export(app, people):
    owner, = people(1)
    room = make_room(owner)
    say(app, room["id"], "something the rules refused", user_id=owner.id, status="blocked")
    say(app, room["id"], "a fine line", user_id=owner.id)
    _, messages = sillytavern_import(export(owner, room["id"]))
    assert [m["mes"] for m in messages] == ["a fine line"]


def test_an_empty_room_exports_its_header_alone(people):
    owner, = people(1)
    room = make_room(owner)
    data = export(owner, room["id"])
    assert "\n" not in data
    header = json.loads(data)
    assert set(header) == {"user_name", "character_name", "create_date", "chat_metadata"}
