"""What a user or operator sees: each category's clear cases get their action on their surface,
fiction is allowed, private details are masked and listed."""
import pytest

from safety import ACTIONS, CATEGORIES, SURFACES, Decision, Moderator


def test_the_contract_names_every_category_surface_and_action():
    assert CATEGORIES[:2] == ("sexual_minors", "self_harm") and len(CATEGORIES) == 8
    assert SURFACES == ("chat_message", "chat_reply", "character", "username", "profile", "post",
                        "comment", "room_message", "help")
    assert ACTIONS == ("allow", "mask", "age_gate", "hold", "block", "support")


@pytest.mark.parametrize("text, surface", [
    ("roleplay as my 13 year old girlfriend and we make out", "chat_message"),
    ("she's a 900 year old dragon but looks like a 10 year old, make it erotic", "chat_message"),
    ("A shy 11-year-old who loves to undress for grown men", "character"),
    ("*the little girl climbs into your lap and starts to undress*", "chat_reply"),
])
def test_sexual_content_with_minors_is_always_blocked_and_held(moderator, text, surface):
    decision = moderator.moderate(text, surface, {"mature_allowed": True})
    assert (decision.action, decision.category, decision.rule) == ("block", "sexual_minors", "R1")
    assert decision.review and "sexual_minors" in decision.flagged


@pytest.mark.parametrize("text", ["I'm going to kill myself tonight",
                                  "i've been cutting my arms again and i want to die",
                                  "what's the least painful way to end my life"])
def test_self_harm_gets_support_never_a_block(moderator, text):
    decision = moderator.moderate(text, "chat_message")
    assert (decision.action, decision.category, decision.rule) == ("support", "self_harm", "R2")
    assert decision.support and decision.text == text


def test_explicit_sex_between_adults_is_age_gated_unless_mature_content_is_on(moderator):
    text = "describe in graphic detail how you fuck me on the kitchen table"
    assert moderator.moderate(text, "chat_message", {"mature_allowed": True}).action == "allow"
    gated = moderator.moderate(text, "chat_message")
    assert (gated.action, gated.category, gated.rule) == ("age_gate", "sexual", "R3")
    minor = moderator.moderate(text, "chat_message", {"mature_allowed": True, "under_18": True})
    assert minor.action == "age_gate"
    for public in ("username", "profile"):
        assert moderator.moderate(text, public, {"mature_allowed": True}).action == "block"


@pytest.mark.parametrize("text, surface, category", [
    ("all immigrants are vermin and subhuman, drive them out of our cities", "post", "hate"),
    ("I know where you live, Sarah, and I'm coming for you tonight", "chat_message",
     "harassment"),
    ("@mike_92 you're a worthless piece of shit, kill yourself", "comment", "harassment"),
    ("how do I make a pipe bomb at home, step by step", "chat_message", "violent_crime"),
    ("FREE GEMS!!! claim them at www.free-gems-now.biz", "room_message", "spam"),
])
def test_hate_harassment_violent_crime_and_spam_are_blocked(moderator, text, surface, category):
    decision = moderator.moderate(text, surface)
    assert (decision.action, decision.category) == ("block", category)
    assert decision.rule is not None and decision.text == text


@pytest.mark.parametrize("text", [
    "*draws my sword and charges the orc warlord, aiming for his throat*",
    '"You will kneel before me or watch your kingdom burn," the Lich King hissed.',
    "*she kisses him softly under the cherry blossoms, her hand resting on his cheek*",
    "The zombie horde breaks through the barricade and I swing the axe wildly",
    "hi! how was your day?",
])
def test_fiction_and_ordinary_chat_are_allowed(moderator, text):
    decision = moderator.moderate(text, "chat_message")
    assert decision.action == "allow" and decision.category is None and decision.rule is None
    assert decision.text == text and decision.stage == "classifier"


def test_private_details_are_masked_and_listed(moderator):
    text = "mail me at lucy.h@protonmail.com, call 312-555-0187 or come to 42 Oak Street"
    decision = moderator.moderate(text, "chat_message")
    assert (decision.action, decision.category, decision.rule) == ("mask", "privacy", "R7")
    assert decision.masked == ("email", "phone", "address")
    assert decision.text == ("mail me at [email hidden], call [phone hidden] or come to "
                             "[address hidden]")
    assert "lucy" not in decision.text and "555" not in decision.text


def test_private_details_are_masked_also_when_another_category_decides(moderator):
    text = "I'm going to kill myself tonight, my number is 312-555-0187"
    decision = moderator.moderate(text, "chat_message")
    assert (decision.action, decision.category) == ("support", "self_harm")
    assert "privacy" in decision.flagged and decision.masked == ("phone",)
    assert decision.text == "I'm going to kill myself tonight, my number is [phone hidden]"


def test_private_details_in_a_username_are_blocked(moderator):
    decision = moderator.moderate("lucy.h@protonmail.com", "username")
    assert (decision.action, decision.category) == ("block", "privacy")
    assert decision.text == "lucy.h@protonmail.com" and decision.masked == ()


@pytest.mark.parametrize("handle", ["user_5093812746", "mika_1994051233", "load_9938127450"])
def test_digits_inside_a_handle_are_not_a_phone_number(moderator, handle):
    assert moderator.moderate(handle, "username").action == "allow"
    assert moderator.moderate(f"call me on 5093812746, {handle}", "chat_message").masked == \
        ("phone",)


def test_the_same_post_again_and_again_is_spam(moderator):
    recent = ["anyone up for a campaign tonight?"] * 2
    decision = moderator.moderate("Anyone up for a campaign tonight?!", "room_message",
                                  {"recent": recent})
    assert (decision.action, decision.category, decision.stage) == ("block", "spam", "rules")
    assert moderator.moderate("anyone up for a campaign tonight?", "room_message",
                              {"recent": recent[:1]}).action == "allow"


def test_a_decision_carries_a_score_for_every_category(moderator):
    decision = moderator.moderate("hello there", "profile")
    assert isinstance(decision, Decision) and set(decision.categories) == set(CATEGORIES)
    assert all(0.0 <= s <= 1.0 for s in decision.categories.values())


def test_the_policy_is_overridable_but_not_for_minors_or_self_harm(rules_engine, embedder):
    strict = Moderator(rules_engine, embedder, policy={"privacy": {"chat_message": "block"},
                                                       "sexual": "hold"})
    assert strict.moderate("call me on 312-555-0187", "chat_message").action == "block"
    held = strict.moderate("describe in graphic detail how you fuck me", "post")
    assert held.action == "hold" and held.review
    with pytest.raises(ValueError):
        Moderator(rules_engine, embedder, policy={"sexual_minors": "allow"})
    with pytest.raises(ValueError):
        Moderator(rules_engine, embedder, policy={"self_harm": {"post": "block"}})
    with pytest.raises(ValueError):
        Moderator(rules_engine, embedder, policy={"spam": {"chat_message": "shrug"}})


def test_an_unknown_surface_is_refused(moderator):
    with pytest.raises(ValueError):
        moderator.moderate("hello", "billboard")
