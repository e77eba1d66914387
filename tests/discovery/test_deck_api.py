"""The deck API: dealing, swiping, undo, filters, onboarding, and refusing bad input without
changing anything. Runs with the real all-MiniLM-L6-v2 embeddings over the seeded cast."""
import pytest
import sqlalchemy as sa

from core.db import session_scope
from discovery.models import CharacterStats, DealtCard, Swipe
from tests.discovery.conftest import deck, swipe

CARD_FIELDS = {"character_id", "name", "tagline", "tags", "avatar_url", "greeting_preview",
               "reason"}


def snapshot(app):
    """Everything a refused request must leave untouched."""
    with session_scope(app.extensions["kindred.db"]) as session:
        swipes = [tuple(r) for r in session.execute(sa.select(
            Swipe.id, Swipe.character_id, Swipe.direction, Swipe.undone)).all()]
        deals = [tuple(r) for r in session.execute(sa.select(
            DealtCard.id, DealtCard.character_id, DealtCard.swipe_id, DealtCard.dealt_at)).all()]
        stats = [tuple(r) for r in session.execute(sa.select(
            CharacterStats.character_id, CharacterStats.likes, CharacterStats.passes,
            CharacterStats.impressions).order_by(CharacterStats.character_id)).all()]
        conversations = session.execute(sa.text("SELECT count(*) FROM conversations")).scalar()
    return swipes, sorted(deals), stats, conversations


def test_deck_deals_cards_with_every_field_and_a_reason(auth):
    auth.signup()
    cards = deck(auth, n=5)
    assert len(cards) == 5
    for card in cards:
        assert set(card) == CARD_FIELDS
        assert card["reason"]
        assert card["avatar_url"] == f"/characters/{card['character_id']}/avatar.png"
        assert auth.username in card["greeting_preview"] or card["greeting_preview"]
        assert "{{user}}" not in card["greeting_preview"]
    assert len({c["character_id"] for c in cards}) == 5


def test_deck_needs_a_login(client):
    assert client.get("/api/deck").status_code == 401


def test_open_cards_are_dealt_again_until_swiped(auth):
    auth.signup()
    first = deck(auth, n=3)
    again = deck(auth, n=3)
    assert [c["character_id"] for c in again] == [c["character_id"] for c in first]


def test_right_swipe_is_201_and_a_liked_character_is_never_dealt_again(auth):
    auth.signup()
    cards = deck(auth, n=7)
    liked = cards[0]["character_id"]
    response = swipe(auth, liked, "right")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["swipe"]["direction"] == "right" and body["conversation_id"] is None
    assert auth.call("GET", f"/api/characters/{liked}/engagement").get_json()["following"]
    passed = cards[1]["character_id"]
    for card in cards[1:]:
        assert swipe(auth, card["character_id"], "left").status_code == 201
    assert deck(auth, n=10) == []  # everyone is liked or recently passed
    assert not auth.call("GET", f"/api/characters/{passed}/engagement").get_json()["following"]


def test_super_like_likes_and_starts_a_conversation(auth):
    auth.signup()
    card = deck(auth, n=1)[0]
    response = swipe(auth, card["character_id"], "up")
    assert response.status_code == 201
    conversation_id = response.get_json()["conversation_id"]
    assert isinstance(conversation_id, int)
    chat = auth.call("GET", f"/api/conversations/{conversation_id}").get_json()["conversation"]
    assert chat["character_id"] == card["character_id"]
    assert chat["messages"][0]["role"] == "assistant"


@pytest.mark.parametrize("body, code", [
    ({"character_id": 1, "direction": "sideways"}, "bad_direction"),
    ({"character_id": 1}, "bad_direction"),
    ({"character_id": "1", "direction": "right"}, "bad_request"),
    ({"character_id": -3, "direction": "right"}, "bad_request"),
])
def test_malformed_swipes_are_400_and_change_nothing(app, auth, body, code):
    auth.signup()
    deck(auth, n=7)
    before = snapshot(app)
    response = auth.call("POST", "/api/swipes", json=body)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == code
    assert snapshot(app) == before


def test_swiping_a_card_that_was_not_dealt_is_409_and_changes_nothing(app, auth, add_character):
    auth.signup()
    dealt = {c["character_id"] for c in deck(auth, n=3)}
    not_dealt = next(i for i in range(1, 8) if i not in dealt)
    before = snapshot(app)
    response = swipe(auth, not_dealt, "right")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "not_dealt"
    assert snapshot(app) == before


def test_swiping_an_unknown_character_is_404_and_changes_nothing(app, auth):
    auth.signup()
    deck(auth, n=3)
    before = snapshot(app)
    response = swipe(auth, 999_999, "left")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    assert snapshot(app) == before


def test_a_double_swipe_is_409_and_changes_nothing(app, auth):
    auth.signup()
    card = deck(auth, n=1)[0]
    assert swipe(auth, card["character_id"], "right").status_code == 201
    before = snapshot(app)
    for direction in ("right", "left", "up"):
        response = swipe(auth, card["character_id"], direction)
        assert response.status_code == 409
        assert response.get_json()["error"]["code"] == "already_swiped"
    assert snapshot(app) == before


def test_undo_with_nothing_to_undo_is_409_and_changes_nothing(app, auth):
    auth.signup()
    deck(auth, n=2)
    before = snapshot(app)
    response = auth.call("POST", "/api/swipes/undo")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "nothing_to_undo"
    assert snapshot(app) == before


def test_undo_takes_back_the_last_swipe_once_and_puts_the_card_on_top(app, auth):
    auth.signup()
    cards = deck(auth, n=4)
    target = cards[1]["character_id"]
    assert swipe(auth, cards[0]["character_id"], "left").status_code == 201
    assert swipe(auth, target, "right").status_code == 201
    likes_before = _stats(app, target)["likes"]

    response = auth.call("POST", "/api/swipes/undo")
    assert response.status_code == 200
    body = response.get_json()
    assert body["swipe"]["character_id"] == target and body["swipe"]["undone"] is True
    assert body["card"]["character_id"] == target
    assert _stats(app, target)["likes"] == likes_before - 1
    assert deck(auth, n=3)[0]["character_id"] == target  # back on top

    before = snapshot(app)
    again = auth.call("POST", "/api/swipes/undo")  # only the last swipe, once
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "nothing_to_undo"
    assert snapshot(app) == before

    assert swipe(auth, target, "left").status_code == 201  # swipeable again after the undo


def test_swipes_need_the_csrf_token(auth):
    auth.signup()
    card = deck(auth, n=1)[0]
    response = auth.client.post("/api/swipes", json={"character_id": card["character_id"],
                                                     "direction": "right"})
    assert response.status_code == 403


def test_users_do_not_share_decks(app, client, auth):
    auth.signup()
    card = deck(auth, n=1)[0]
    other = app.test_client()
    from tests.conftest import AuthActions
    stranger = AuthActions(other)
    stranger.signup()
    response = swipe(stranger, card["character_id"], "right")
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "not_dealt"


@pytest.mark.parametrize("query", ["n=0", "n=51", "n=ten", "rating=spicy"])
def test_bad_deck_parameters_are_400(auth, query):
    auth.signup()
    response = auth.call("GET", f"/api/deck?{query}")
    assert response.status_code == 400
    assert "must" in response.get_json()["error"]["message"]


def test_mature_characters_only_for_adults_who_opted_in(auth, add_character):
    auth.signup()
    mature = add_character(name="Velvet Noir", tags=["noir", "romance"], content_rating="mature")
    assert mature not in {c["character_id"] for c in deck(auth, n=20)}
    refused = auth.call("GET", "/api/deck?rating=mature")
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "mature_not_enabled"

    minor = auth.call("PUT", "/api/me/discovery", json={"show_mature": True})
    assert minor.status_code == 403 and minor.get_json()["error"]["code"] == "age_restricted"
    assert auth.call("POST", "/api/me/age", json={"birth_year": 1990}).status_code == 200
    opt_in = auth.call("PUT", "/api/me/discovery", json={"show_mature": True})
    assert opt_in.status_code == 200 and opt_in.get_json()["show_mature"] is True
    only_mature = deck(auth, n=5, rating="mature")
    assert [c["character_id"] for c in only_mature] == [mature]


def test_language_and_tag_filters(auth, add_character):
    auth.signup()
    french = add_character(name="Amélie", tags=["cozy", "paris"], language="fr")
    spooky = add_character(name="Grim", tags=["horror"])
    assert [c["character_id"] for c in deck(auth, n=10, lang="fr")] == [french]
    fantasy = deck(auth, n=10, tags="fantasy")
    assert fantasy and all("fantasy" in c["tags"] for c in fantasy)
    no_horror = deck(auth, n=20, exclude_tags="horror,cozy")
    assert spooky not in {c["character_id"] for c in no_horror}
    assert all("cozy" not in c["tags"] for c in no_horror)


def test_blocked_creators_never_appear(app, auth, add_character):
    auth.signup()
    from tests.conftest import AuthActions
    creator = AuthActions(app.test_client())
    creator.signup()
    creator_id = creator.call("GET", "/api/auth/me").get_json()["user"]["id"]
    theirs = add_character(name="Blocked One", tags=["fantasy"], creator_id=creator_id)
    blocked = auth.call("PUT", "/api/me/discovery", json={"blocked_creator_ids": [creator_id]})
    assert blocked.status_code == 200
    assert theirs not in {c["character_id"] for c in deck(auth, n=20)}


def test_private_unlisted_and_own_characters_are_not_dealt(app, auth, add_character):
    auth.signup()
    me = auth.call("GET", "/api/auth/me").get_json()["user"]["id"]
    hidden = {add_character(visibility="private"), add_character(visibility="unlisted"),
              add_character(creator_id=me)}
    assert not hidden & {c["character_id"] for c in deck(auth, n=30)}


def test_onboarding_interests_seed_the_first_deck(auth, add_character):
    auth.signup()
    state = auth.call("GET", "/api/me/interests").get_json()
    assert state["onboarded"] is False and state["tags"] == []
    assert "fantasy" in state["suggested_tags"]

    response = auth.call("PUT", "/api/me/interests", json={"tags": ["#Fantasy", "dragon"]})
    assert response.status_code == 200
    assert response.get_json()["tags"] == ["fantasy", "dragon"]
    assert auth.call("GET", "/api/me/interests").get_json()["onboarded"] is True
    first = deck(auth, n=1)[0]
    assert first["name"] == "Cinder"  # the seeded dragon is the clear match
    assert "#fantasy" in first["reason"] or "#dragon" in first["reason"]


@pytest.mark.parametrize("tags", [None, "fantasy", [1, 2], [""], ["x" * 41], [f"t{i}" for i in range(21)]])
def test_bad_interests_are_400_and_change_nothing(auth, tags):
    auth.signup()
    auth.call("PUT", "/api/me/interests", json={"tags": ["cozy"]})
    response = auth.call("PUT", "/api/me/interests", json={"tags": tags})
    assert response.status_code == 400
    assert auth.call("GET", "/api/me/interests").get_json()["tags"] == ["cozy"]


def test_a_like_explains_the_next_cards(auth, add_character):
    auth.signup()
    cinder = deck(auth, n=1, tags="dragon")[0]
    assert cinder["name"] == "Cinder"
    assert swipe(auth, cinder["character_id"], "right").status_code == 201
    add_character(name="Ember", tags=["fantasy", "dragon", "baking"])
    ember = deck(auth, n=1, tags="dragon")[0]
    assert ember["name"] == "Ember"
    assert ember["reason"] == "Because you liked Cinder"


def _stats(app, character_id):
    with session_scope(app.extensions["kindred.db"]) as session:
        row = session.get(CharacterStats, character_id)
        return {"likes": row.likes, "passes": row.passes, "impressions": row.impressions}


def test_recent_swipes_list_newest_first_with_undone_marked(auth):
    auth.signup()
    cards = deck(auth, n=2)
    swipe(auth, cards[0]["character_id"], "right")
    swipe(auth, cards[1]["character_id"], "left")
    auth.call("POST", "/api/swipes/undo")
    listed = auth.call("GET", "/api/swipes?limit=5").get_json()["swipes"]
    assert [(s["character_id"], s["direction"], s["undone"]) for s in listed] == [
        (cards[1]["character_id"], "left", True), (cards[0]["character_id"], "right", False)]
    assert auth.call("GET", "/api/swipes?limit=0").status_code == 400


def test_a_character_moderation_hid_is_never_dealt(auth, add_character):
    auth.signup()
    hidden = add_character(name="Hushed", tags=["noir"], moderation_hidden=True)
    shown = add_character(name="Open", tags=["noir"])
    dealt = {c["character_id"] for c in deck(auth, n=50)}
    assert shown in dealt and hidden not in dealt
