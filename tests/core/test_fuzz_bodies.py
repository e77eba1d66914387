"""Random JSON at every JSON endpoint never gets a 5xx (hardening): wrong types, huge ints,
deep nesting, odd unicode (lone surrogates and NUL included), unknown and known field names,
and ids in and out of range in the path."""
import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.both_databases

# Log-out endpoints would end the session the rest of the run needs; they take no body.
SKIPPED = {"auth.logout", "auth.logout_everywhere"}
FIELDS = ["name", "content", "character_id", "conversation_id", "message_id", "tags", "visibility",
          "username", "password", "remember", "alternate_greetings", "extensions",
          "character_book", "description", "first_mes", "card_id", "choice_id", "banner_id",
          "count", "amount", "currency", "idempotency_key", "current_password", "new_password",
          "direction", "action", "reason", "note", "pinned", "importance", "content_rating",
          "user", "gems", "story_id", "level", "chapter_id", "rarity", "seed"]
IDS = [0, 1, 2, 3, 7, 2**31, 2**63 - 1]

text = st.text(st.characters(blacklist_categories=()), max_size=40)  # surrogates, NUL included
scalars = (st.none() | st.booleans() | text
           | st.integers(min_value=-(2**70), max_value=2**70) | st.sampled_from(IDS)
           | st.floats(allow_nan=False, allow_infinity=False))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.sampled_from(FIELDS) | text, inner, max_size=4),
                      max_leaves=12)
bodies = (st.dictionaries(st.sampled_from(FIELDS), values, max_size=5) | values
          | st.integers(min_value=40, max_value=300).map(lambda d: "[" * d + "]" * d))


def _json_routes(app) -> list:
    return sorted(((rule.rule, method, rule.endpoint) for rule in app.url_map.iter_rules()
                   for method in rule.methods & {"POST", "PUT", "PATCH", "DELETE"}
                   if rule.rule.startswith("/api/") and rule.endpoint not in SKIPPED))


def _path(rule: str, ids: list[int]) -> str:
    ids = iter(ids)
    path = re.sub(r"<int:\w+>", lambda _m: str(next(ids)), rule)
    return path.replace("<any(follow, like):kind>", "like").replace("<username>", "someone")


@settings(max_examples=250, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_no_json_body_at_any_endpoint_gets_a_5xx(app, auth, data):
    if auth.csrf is None:
        auth.signup("fuzzer")
        character = auth.call("POST", "/api/characters", json={"name": "Fuzzed"}).get_json()
        auth.start_conversation()
        IDS.append(character["character"]["id"])
    rule, method, _endpoint = data.draw(st.sampled_from(_json_routes(app)))
    path = _path(rule, [data.draw(st.sampled_from(IDS)) for _ in range(rule.count("<int:"))])
    body = data.draw(bodies)
    raw = body if isinstance(body, str) else json.dumps(body)
    response = auth.call(method, path, data=raw, content_type="application/json")
    assert response.status_code < 500, (method, path, raw[:300], response.get_data()[:500])
    if response.status_code >= 400:
        assert response.get_json()["error"]["code"]
