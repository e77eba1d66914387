"""Prompt building from card fields and history within the context budget."""
from types import SimpleNamespace

from conversations.prompt import build_prompt, stop_strings

CHARACTER = SimpleNamespace(
    name="Odessa", system_prompt="You are {{char}}, talking with {{user}}.",
    description="{{char}} runs a tea shop.", personality="brisk, kind",
    scenario="{{user}} walks in at closing time.",
    mes_example="<START>\n{{user}}: Hi\n{{char}}: Sit, deckhand.",
    post_history_instructions="Keep it short, {{user}}.")


def _turn(role, content):
    return SimpleNamespace(role=role, content=content)


def test_every_card_field_reaches_the_prompt_with_names_filled_in(inference):
    prompt = build_prompt(CHARACTER, [_turn("assistant", "Hello."), _turn("user", "Hi!")],
                          "Sam", inference, 2048, 100)
    for expected in ("You are Odessa, talking with Sam.", "Odessa runs a tea shop.", "brisk, kind",
                     "Sam walks in at closing time.", "Sam: Hi\nOdessa: Sit, deckhand.",
                     "Keep it short, Sam."):
        assert expected in prompt.text
    assert "{{" not in prompt.text and "<START>" not in prompt.text


def test_uses_the_models_chat_template_and_ends_ready_for_the_reply(inference):
    prompt = build_prompt(CHARACTER, [_turn("user", "Hi!")], "Sam", inference, 2048, 100)
    assert prompt.text.startswith("<|im_start|>system\n")
    assert "<|im_start|>user\nHi!<|im_end|>" in prompt.text
    assert prompt.text.endswith("<|im_start|>assistant\n")


def test_post_history_instructions_come_after_the_history(inference):
    prompt = build_prompt(CHARACTER, [_turn("user", "Latest question")], "Sam", inference, 2048, 100)
    assert prompt.text.index("Latest question") < prompt.text.index("Keep it short, Sam.")


def test_oldest_turns_are_dropped_first_to_fit_the_context(inference):
    history = [_turn("user" if i % 2 else "assistant", f"message number {i} " + "words " * 40)
               for i in range(60)]
    prompt = build_prompt(CHARACTER, history, "Sam", inference, 1024, 200)
    assert prompt.token_count <= 1024 - 200
    assert prompt.history_dropped > 0
    assert "message number 59" in prompt.text
    assert "message number 0 " not in prompt.text
    kept = [i for i in range(60) if f"message number {i} " in prompt.text]
    assert kept == list(range(60 - len(kept), 60))  # a contiguous, most recent run


def test_short_history_is_kept_whole(inference):
    history = [_turn("assistant", "Welcome."), _turn("user", "Thanks")]
    prompt = build_prompt(CHARACTER, history, "Sam", inference, 2048, 200)
    assert prompt.history_dropped == 0 and "Welcome." in prompt.text


def test_stop_strings_cover_the_users_next_line():
    stops = stop_strings("Sam")
    assert "\nSam:" in stops and "<|im_start|>" in stops
