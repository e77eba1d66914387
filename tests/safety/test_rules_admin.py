"""The rules admin: an admin's word rule blocks at once and deleting it un-blocks; a bad regex is
a 400 and nothing is stored; everyone else gets 403 (401 without a login)."""
import pytest

from core.auth.roles import grant_role
from core.db import session_scope

pytestmark = pytest.mark.both_databases

RULES = "/api/admin/moderation/rules"


def _admin(app, auth, name="Warden"):
    auth.signup(name)
    with session_scope(app.extensions["kindred.db"]) as session:
        grant_role(session, name, "admin")


def _rules(client):
    response = client.get(RULES)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["rules"]


def test_an_admin_word_rule_blocks_at_once_and_deleting_it_unblocks(app, client, auth):
    _admin(app, auth)
    moderator = app.extensions["kindred.moderator"]
    text = "come and buy my zorblax crystals"
    assert "spam" not in moderator.moderate(text, "post").stages

    added = auth.call("POST", RULES, json={"category": "spam", "kind": "word",
                                           "pattern": "zorblax"})
    assert added.status_code == 201, added.get_json()
    rule = added.get_json()["rule"]
    assert rule["category"] == "spam" and rule["enabled"] and rule["created_by"] is not None
    blocked = moderator.moderate(text, "post")
    assert (blocked.action, blocked.category, blocked.stage, blocked.rule) == (
        "block", "spam", "rules", "R8")
    assert moderator.moderate("zorblaxes are rare", "post").stages.get("spam") != "rules"

    assert [r["pattern"] for r in _rules(client)] == ["zorblax"]
    assert auth.call("DELETE", f"{RULES}/{rule['id']}").status_code == 204
    assert moderator.moderate(text, "post").stages.get("spam") != "rules"
    assert _rules(client) == []
    assert auth.call("DELETE", f"{RULES}/{rule['id']}").status_code == 404


def test_disabling_a_pattern_rule_stops_it_and_enabling_brings_it_back(app, client, auth):
    _admin(app, auth)
    moderator = app.extensions["kindred.moderator"]
    added = auth.call("POST", RULES, json={"category": "hate", "kind": "pattern",
                                           "pattern": r"\bglorp(?:ians?)?\s+are\s+vermin\b"})
    rule_id = added.get_json()["rule"]["id"]
    text = "Glorpians are vermin"
    assert moderator.moderate(text, "comment").stages.get("hate") == "rules"
    off = auth.call("PATCH", f"{RULES}/{rule_id}", json={"enabled": False})
    assert off.status_code == 200 and off.get_json()["rule"]["enabled"] is False
    assert moderator.moderate(text, "comment").stages.get("hate") != "rules"
    auth.call("PATCH", f"{RULES}/{rule_id}", json={"enabled": True})
    assert moderator.moderate(text, "comment").stages.get("hate") == "rules"
    bad = auth.call("PATCH", f"{RULES}/{rule_id}", json={"enabled": "yes"})
    assert bad.status_code == 400


@pytest.mark.parametrize("body, code", [
    ({"category": "spam", "kind": "pattern", "pattern": "(unclosed"}, "bad_pattern"),
    ({"category": "spam", "kind": "pattern", "pattern": "a*"}, "bad_pattern"),
    ({"category": "spam", "kind": "pattern", "pattern": "x" * 1001}, "bad_pattern"),
    ({"category": "spam", "kind": "word", "pattern": "   "}, "bad_pattern"),
    ({"category": "gossip", "kind": "word", "pattern": "tea"}, "bad_category"),
    ({"category": "spam", "kind": "glob", "pattern": "*.biz"}, "bad_kind"),
])
def test_a_bad_rule_is_a_400_and_nothing_is_stored(app, client, auth, body, code):
    _admin(app, auth)
    response = auth.call("POST", RULES, json=body)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == code
    assert _rules(client) == []


def test_only_admins_reach_the_rules(app, client, auth):
    calls = [("GET", RULES, None), ("POST", RULES, {"category": "spam", "kind": "word",
                                                    "pattern": "x"}),
             ("PATCH", f"{RULES}/1", {"enabled": False}), ("DELETE", f"{RULES}/1", None)]
    for method, path, body in calls:
        assert client.open(path, method=method, json=body).status_code == 401, (method, path)
    assert client.get("/admin/moderation/rules").status_code == 302  # to the log-in page
    calls.append(("GET", "/admin/moderation/rules", None))
    auth.signup("Plain")
    for method, path, body in calls:
        assert auth.call(method, path, json=body).status_code == 403, (method, path)
    with session_scope(app.extensions["kindred.db"]) as session:
        grant_role(session, "Plain", "moderator")
    for method, path, body in calls:
        assert auth.call(method, path, json=body).status_code == 403, (method, path)


def test_the_rules_page_loads_its_script_and_has_no_inline_code(app, client, auth):
    _admin(app, auth)
    page = client.get("/admin/moderation/rules")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'src="/static/js/admin_rules.js"' in html and 'id="rule-form"' in html
    assert "<script>" not in html and "style=" not in html
