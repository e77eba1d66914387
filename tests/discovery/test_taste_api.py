"""The taste model through the API, with the real MiniLM embeddings: after liking two themes and
passing the others the deck is theirs, and however much a user likes characters like theirs, a
blocked creator's or a mature character never reaches a user who has not opted in."""
from tests.conftest import AuthActions
from tests.discovery.conftest import deck, swipe

THEMES = {
    "pirates": ("a pirate captain who sails the high seas hunting buried treasure",
                ["pirates", "sea", "treasure"]),
    "space": ("a starship pilot who flies between alien worlds in deep space",
              ["sci-fi", "space", "aliens"]),
    "ghosts": ("a ghost haunting a Victorian manor, whispering behind the walls at midnight",
               ["horror", "ghosts", "haunted"]),
    "baking": ("a village baker who makes cinnamon rolls in a cozy little bakery",
               ["cozy", "baking", "slice of life"]),
}


def add_themed(add_character, theme, count, **fields):
    text, tags = THEMES[theme]
    ids = []
    for i in range(count):
        ids.append(add_character(name=f"{theme.title()} {i}", tags=tags,
                                 description=f"{{{{char}}}} is {text}. Number {i} of the crew.",
                                 **fields))
    return ids


def by_theme(ids_by_theme, cards):
    out = []
    for card in cards:
        out.append(next((t for t, ids in ids_by_theme.items() if card["character_id"] in ids),
                        "other"))
    return out


def play(auth, ids_by_theme, loved, deals):
    """Swipe `deals` decks: like the loved themes, pass everything else. Returns the ids swiped."""
    swiped = set()
    for _ in range(deals):
        for card, theme in zip(*[(cards := deck(auth, n=10)), by_theme(ids_by_theme, cards)]):
            assert swipe(auth, card["character_id"],
                         "right" if theme in loved else "left").status_code == 201
            swiped.add(card["character_id"])
    return swiped


def test_after_liking_two_themes_and_passing_the_rest_the_deck_is_theirs(auth, add_character):
    auth.signup()
    ids = {theme: set(add_themed(add_character, theme, 8)) for theme in THEMES}
    swiped = play(auth, ids, loved={"pirates", "ghosts"}, deals=2)
    cards = deck(auth, n=8)
    themes = by_theme(ids, cards)
    # The loved characters still unseen fill the deal first (a deck that learned fast may have
    # dealt most of the 16 already).
    left = {t: len(ids[t] - swiped) for t in ("pirates", "ghosts")}
    wanted = min(6, sum(left.values()))
    assert sum(t in ("pirates", "ghosts") for t in themes[:wanted]) == wanted, (themes, left)
    assert all(t in themes for t in left if left[t]), (themes, left)
    reasons = [c["reason"] for c, t in zip(cards, themes) if t in ("pirates", "ghosts")]
    assert all(r.startswith("Because you liked ") or r.startswith("You like #")
               for r in reasons), reasons


def test_a_passed_theme_sinks(auth, add_character):
    auth.signup()
    ids = {theme: set(add_themed(add_character, theme, 8)) for theme in THEMES}
    play(auth, ids, loved={"space", "baking", "pirates"}, deals=2)   # ghosts passed
    themes = by_theme(ids, deck(auth, n=6))
    assert themes.count("ghosts") <= 1, themes


def test_a_blocked_creator_never_appears_even_after_liking_many_like_theirs(app, auth,
                                                                           add_character):
    auth.signup()
    creator = AuthActions(app.test_client())
    creator.signup()
    creator_id = creator.call("GET", "/api/auth/me").get_json()["user"]["id"]
    theirs = set(add_themed(add_character, "pirates", 5, creator_id=creator_id))
    ids = {theme: set(add_themed(add_character, theme, 6)) for theme in THEMES}
    assert auth.call("PUT", "/api/me/discovery",
                     json={"blocked_creator_ids": [creator_id]}).status_code == 200
    dealt = set()
    for _ in range(8):                          # like every pirate, until the deck runs dry
        cards = deck(auth, n=10)
        if not cards:
            break
        for card, theme in zip(cards, by_theme(ids, cards)):
            dealt.add(card["character_id"])
            swipe(auth, card["character_id"], "right" if theme == "pirates" else "left")
    assert ids["pirates"] <= dealt               # the evidence was there, all of it liked
    assert not dealt & theirs


def test_mature_characters_never_reach_a_user_who_has_not_opted_in(auth, add_character):
    auth.signup()
    mature = set(add_themed(add_character, "ghosts", 5, content_rating="mature"))
    ids = {theme: set(add_themed(add_character, theme, 6)) for theme in THEMES}
    dealt = set()
    for _ in range(8):
        cards = deck(auth, n=10)
        if not cards:
            break
        for card, theme in zip(cards, by_theme(ids, cards)):
            dealt.add(card["character_id"])
            swipe(auth, card["character_id"], "up" if theme == "ghosts" else "left")
    assert ids["ghosts"] <= dealt
    assert not dealt & mature
    assert auth.call("PUT", "/api/me/interests", json={"tags": ["horror", "ghosts"]}
                     ).status_code == 200
    assert not {c["character_id"] for c in deck(auth, n=50)} & mature
