"""Lorebook entries firing in prompts: keys, case, regex, selective, constant, depth, budget,
recursion, and Seraphina's real book reaching the chat prompt."""
import io
from pathlib import Path
from types import SimpleNamespace

import pytest

from conversations.lorebook import select_entries
from conversations.prompt import build_prompt
from characters.cards import parse_card_file
from characters.service import character_from_card
from tests.support.events import collect_until, payloads

SERAPHINA = Path("/work/shared/fixtures/cards/default_Seraphina.png")


def words(text: str) -> int:
    return len(text.split())


def entry(keys, content, **fields):
    return {"keys": keys, "content": content, "enabled": True, "insertion_order": 10, **fields}


def fired(book, messages, budget=None) -> list[str]:
    return [e.content for e in select_entries(book, messages, words, budget)]


def test_an_entry_fires_when_a_key_appears_in_recent_messages():
    book = {"entries": [entry(["dragon"], "Dragons sleep on gold."),
                        entry(["castle"], "The castle is empty.")]}
    assert fired(book, ["Hello", "Tell me about the dragon."]) == ["Dragons sleep on gold."]
    assert fired(book, ["nothing relevant"]) == []


def test_keys_match_regardless_of_case_unless_case_sensitive():
    book = {"entries": [entry(["Dragon"], "loose"),
                        entry(["Dragon"], "strict", case_sensitive=True)]}
    assert fired(book, ["a DRAGON!"]) == ["loose"]
    assert fired(book, ["a Dragon!"]) == ["loose", "strict"]


def test_slash_delimited_keys_are_regular_expressions_with_their_flags():
    book = {"entries": [entry([r"/drag(on|ons)\b/i"], "regex with i"),
                        entry([r"/^Hello/"], "case-sensitive regex"),
                        entry([r"ca+stle"], "plain key is literal"),
                        entry([r"ca+stle"], "use_regex pattern", use_regex=True)]}
    assert fired(book, ["DRAGONS ahead", "hello caaastle"]) == ["regex with i", "use_regex pattern"]
    assert fired(book, ["Hello there, ca+stle"]) == ["case-sensitive regex", "plain key is literal"]


def test_invalid_or_slow_patterns_never_fire_and_never_raise():
    book = {"entries": [entry(["/([a-z/"], "broken"),
                        entry([r"/^(a+)+$/"], "catastrophic")]}
    assert fired(book, ["a" * 40 + "!"]) == []


def test_whole_word_matching_from_sillytavern_extensions():
    book = {"entries": [entry(["wood"], "whole", extensions={"match_whole_words": True}),
                        entry(["wood"], "substring")]}
    assert fired(book, ["Hollywood"]) == ["substring"]
    assert fired(book, ["the wood is dark"]) == ["whole", "substring"]


def test_selective_entries_need_a_secondary_key_too():
    book = {"entries": [entry(["sword"], "selective", selective=True, secondary_keys=["magic"]),
                        entry(["sword"], "not selective", secondary_keys=["magic"]),
                        entry(["sword"], "no secondaries", selective=True, secondary_keys=[])]}
    assert fired(book, ["a sword"]) == ["not selective", "no secondaries"]
    assert fired(book, ["magic", "a sword"]) == ["selective", "not selective", "no secondaries"]


def test_sillytavern_selective_logic_not_any():
    book = {"entries": [entry(["sword"], "unless magic", selective=True, secondary_keys=["magic"],
                              extensions={"selectiveLogic": 2})]}
    assert fired(book, ["a sword"]) == ["unless magic"]
    assert fired(book, ["a magic sword"]) == []


def test_constant_entries_always_fire_and_disabled_ones_never():
    book = {"entries": [entry([], "always", constant=True),
                        entry(["dragon"], "off", enabled=False),
                        entry([], "off constant", constant=True, enabled=False)]}
    assert fired(book, ["dragon"]) == ["always"]
    assert fired(book, []) == ["always"]


def test_only_the_last_scan_depth_messages_are_scanned():
    book = {"scan_depth": 2, "entries": [entry(["dragon"], "lore")]}
    assert fired(book, ["dragon", "one", "two"]) == []
    assert fired(book, ["dragon", "one"]) == ["lore"]
    default = {"entries": [entry(["dragon"], "lore")]}  # default depth 4
    assert fired(default, ["dragon", "1", "2", "3"]) == ["lore"]
    assert fired(default, ["dragon", "1", "2", "3", "4"]) == []
    assert fired({**book, "scan_depth": 0}, ["dragon"]) == []


def test_entries_come_back_in_insertion_order():
    book = {"entries": [entry(["a"], "third", insertion_order=30),
                        entry(["a"], "first", insertion_order=1),
                        entry(["a"], "second", insertion_order=20)]}
    assert fired(book, ["a"]) == ["first", "second", "third"]


def test_over_budget_the_lowest_priority_is_dropped_first():
    book = {"token_budget": 6, "entries": [
        entry(["a"], "high one two", priority=9, insertion_order=1),
        entry(["a"], "low one two", priority=1, insertion_order=2),
        entry(["a"], "middle one two", priority=5, insertion_order=3)]}
    assert fired(book, ["a"]) == ["high one two", "middle one two"]
    assert fired(book, ["a"], budget=3) == ["high one two"]  # the caller's cap also applies
    assert fired({**book, "token_budget": 2}, ["a"]) == []


def test_an_important_entry_too_big_to_fit_does_not_evict_smaller_ones():
    book = {"token_budget": 5, "entries": [
        entry(["a"], "huge " * 6, priority=9),
        entry(["a"], "small one", priority=2),
        entry(["a"], "smaller", priority=1),
        entry(["a"], "least one two", priority=0)]}
    assert fired(book, ["a"]) == ["small one", "smaller"]


def test_among_equal_priority_the_oldest_match_is_dropped_first():
    book = {"token_budget": 2, "entries": [entry(["old"], "old match"),
                                           entry(["new"], "new match")]}
    assert fired(book, ["old", "new"]) == ["new match"]
    assert fired(book, ["new", "old"]) == ["old match"]


def test_recursive_scanning_follows_keys_in_fired_content():
    book = {"recursive_scanning": True, "entries": [
        entry(["king"], "The king lives in the castle."),
        entry(["castle"], "The castle hides a dragon."),
        entry(["dragon"], "The dragon is asleep."),
        entry(["castle"], "excluded", extensions={"exclude_recursion": True})]}
    assert fired(book, ["the king?"]) == ["The king lives in the castle.",
                                          "The castle hides a dragon.", "The dragon is asleep."]
    assert fired({**book, "recursive_scanning": False}, ["the king?"]) == [
        "The king lives in the castle."]
    triggers = [e.trigger for e in select_entries(book, ["the king?"], words)]
    assert triggers == ["key: king", "recursion: castle", "recursion: dragon"]


def test_malformed_books_and_entries_are_ignored():
    assert fired(None, ["x"]) == []
    assert fired({"entries": "nope"}, ["x"]) == []
    assert fired({"entries": [None, {"keys": "x", "content": "y"}, entry(["x"], "")]}, ["x"]) == []


# ------------------------------------------------------------------ in the chat prompt


def _turn(role, content):
    return SimpleNamespace(role=role, content=content)


@pytest.fixture(scope="module")
def seraphina():
    return character_from_card(parse_card_file(SERAPHINA.read_bytes())[0])


def test_seraphina_prompt_mentioning_shadowfang_contains_that_entry(seraphina, inference):
    history = [_turn("assistant", "Rest now."), _turn("user", "What is a Shadowfang?")]
    prompt = build_prompt(seraphina, history, "Sam", inference, 2048, 200)
    shadowfang = seraphina.character_book["entries"][1]
    expected = shadowfang["content"].replace("{{user}}", "Sam").replace("{{char}}", "Seraphina")
    assert expected in prompt.text
    assert [e.trigger for e in prompt.lore_entries] == ["key: shadowfang"]
    # position before_char: the entry comes before the character description
    assert prompt.text.index(expected) < prompt.text.index("Seraphina's description")
    assert prompt.token_count <= 2048 - 200


def test_after_char_entries_follow_the_description(seraphina, inference):
    character = SimpleNamespace(**{**seraphina.model_dump(), "character_book": {"entries": [
        entry(["tea"], "AFTER-LORE", position="after_char"),
        entry(["tea"], "BEFORE-LORE", position="before_char")]}})
    prompt = build_prompt(character, [_turn("user", "Some tea?")], "Sam", inference, 2048, 200)
    text = prompt.text
    assert text.index("BEFORE-LORE") < text.index("Seraphina's description") < text.index(
        "AFTER-LORE")


def test_lore_is_capped_to_a_share_of_a_small_context(seraphina, inference):
    history = [_turn("user", "The forest, the beasts, the glade and your magic?")]
    roomy = build_prompt(seraphina, history, "Sam", inference, 4096, 200)
    assert len(roomy.lore_entries) == 4
    tight = build_prompt(seraphina, history, "Sam", inference, 1400, 200)
    assert sum(e.tokens for e in tight.lore_entries) <= (1400 - 200) // 4
    assert 0 < len(tight.lore_entries) < 4
    assert tight.token_count <= 1400 - 200


def test_characters_without_a_book_build_the_same_prompt(inference):
    plain = SimpleNamespace(name="Odessa", system_prompt="", description="Tea.", personality="",
                            scenario="", mes_example="", post_history_instructions="")
    prompt = build_prompt(plain, [_turn("user", "Hi")], "Sam", inference, 2048, 100)
    assert prompt.lore_entries == [] and "Tea." in prompt.text


def test_chat_with_imported_seraphina_streams_a_reply_with_her_lore(app, auth, socket_client,
                                                                     inference, monkeypatch):
    prompts = []
    real_submit = inference.submit
    monkeypatch.setattr(inference, "submit",
                        lambda text, params, **kw: prompts.append(text) or real_submit(text, params, **kw))
    response = auth.call("POST", "/api/characters/import",
                         data={"file": (io.BytesIO(SERAPHINA.read_bytes()), "Seraphina.png")},
                         content_type="multipart/form-data")
    character_id = response.get_json()["character"]["id"]
    conversation = auth.start_conversation(character_id)
    socket_client.emit("chat:send", {"conversation_id": conversation["id"],
                                     "content": "Are the Shadowfangs close?"})
    done = payloads(collect_until(socket_client), "chat:done")[0]
    assert done["stopped"] is False and done["message"]["role"] == "assistant"
    assert "The Shadowfangs are beasts of darkness" in prompts[-1]
