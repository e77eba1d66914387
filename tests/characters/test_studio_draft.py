""""Describe your character in one line": studio:draft streams each field from the local model."""
from tests.support.events import collect_until, payloads

FIELDS = ["description", "personality", "scenario", "first_mes", "mes_example"]


def test_one_line_drafts_every_field_streamed_in_order(socket_client):
    socket_client.emit("studio:draft", {"line": "a grumpy lighthouse keeper who writes poems"})
    events = collect_until(socket_client, ("studio:draft_done", "studio:error"), timeout=120)
    tokens = payloads(events, "studio:draft_token")
    done = payloads(events, "studio:draft_done")
    assert done, [e["name"] for e in events]
    order = list(dict.fromkeys(t["field"] for t in tokens))
    assert order == [f for f in FIELDS if f in order] and order  # streamed field by field
    fields = done[0]["fields"]
    assert list(fields) == FIELDS and not done[0]["stopped"]
    for field in order:
        assert "".join(t["text"] for t in tokens if t["field"] == field).strip() == fields[field]


def test_bad_lines_are_refused_without_generating(socket_client):
    for payload, code in (({"line": ""}, "empty_line"), ({"line": "x" * 301}, "line_too_long"),
                          ("just text", "empty_line"), ({"line": 42}, "empty_line")):
        socket_client.emit("studio:draft", payload)
        events = collect_until(socket_client, ("studio:error", "studio:draft_done"), timeout=10)
        assert payloads(events, "studio:error")[0]["code"] == code
        assert not payloads(events, "studio:draft_token")


def test_prompts_are_structured_per_field(inference):
    from characters.drafting import field_prompt
    prompt = field_prompt(inference, "a shy dragon", "personality",
                          {"description": "{{char}} is a shy dragon."})
    assert "Character concept: a shy dragon" in prompt
    assert "Description: {{char}} is a shy dragon." in prompt and "Personality" in prompt
