"""Who speaks next: the four strategies, as SillyTavern's group chats define them, under a seeded
random generator so every run picks the same."""
import random
from collections import Counter

import pytest

from rooms.strategies import Member, activate, talkativeness_of

ALICE, BORIS, CLARA = (Member(1, "Alice Moon", 0.5, 0), Member(2, "Boris", 0.5, 1),
                       Member(3, "Clara", 0.5, 2))
CAST = [ALICE, BORIS, CLARA]
AFTER_HUMAN = [("user", None)]


def test_a_name_mention_activates_that_character_first():
    for seed in range(20):
        picked = activate("natural", CAST, AFTER_HUMAN, "hey clara, what do you think?",
                          random.Random(seed))
        assert picked[0] == 3


def test_any_word_of_a_name_is_a_mention_and_mentions_keep_their_order():
    picked = activate("natural", CAST, AFTER_HUMAN, "Boris and Moon, come here",
                      random.Random(1))
    assert picked[:2] == [2, 1]


def test_without_a_mention_characters_roll_against_their_talkativeness():
    chatty, shy = Member(1, "Chatty", 1.0), Member(2, "Shy", 0.0)
    for seed in range(30):
        assert activate("natural", [chatty, shy], AFTER_HUMAN, "hello all",
                        random.Random(seed)) == [1]


def test_a_talkative_character_speaks_more_often_than_a_quiet_one():
    loud, quiet = Member(1, "Loud", 0.9), Member(2, "Quiet", 0.1)
    firsts = Counter(activate("natural", [loud, quiet], AFTER_HUMAN, "so?", random.Random(s))[0]
                     for s in range(400))
    assert firsts[1] > 2 * firsts[2]


def test_when_nobody_is_activated_one_character_is_picked_anyway():
    mute_cast = [Member(1, "A", 0.0), Member(2, "B", 0.0)]
    for seed in range(10):
        picked = activate("natural", mute_cast, AFTER_HUMAN, "anyone?", random.Random(seed))
        assert len(picked) == 1 and picked[0] in (1, 2)


def test_after_its_own_turn_a_character_does_not_speak_again_in_natural_order():
    recent = [("user", None), ("character", 2)]
    for seed in range(30):
        picked = activate("natural", CAST, recent, "", random.Random(seed), is_human_input=False)
        assert picked and 2 not in picked


def test_the_same_seed_picks_the_same_speakers():
    runs = {tuple(activate("natural", CAST, AFTER_HUMAN, "hm", random.Random(42)))
            for _ in range(5)}
    assert len(runs) == 1


def test_list_order_takes_turns_after_the_last_speaker():
    assert activate("list", CAST, AFTER_HUMAN, "", random.Random(0))[0] == 1
    assert activate("list", CAST, [("character", 1), ("user", None)], "",
                    random.Random(0))[0] == 2
    assert activate("list", CAST, [("character", 3)], "", random.Random(0))[0] == 1


def test_list_order_follows_positions_not_ids():
    cast = [Member(1, "A", position=2), Member(2, "B", position=0), Member(3, "C", position=1)]
    assert activate("list", cast, AFTER_HUMAN, "", random.Random(0)) == [2, 3, 1]


def test_pooled_picks_one_that_has_not_spoken_since_the_last_human_message():
    recent = [("user", None), ("character", 1), ("character", 3)]
    for seed in range(20):
        assert activate("pooled", CAST, recent, "", random.Random(seed),
                        is_human_input=False) == [2]


def test_pooled_when_everyone_spoke_picks_someone_other_than_the_last_speaker():
    recent = [("user", None), ("character", 1), ("character", 2), ("character", 3)]
    picks = {activate("pooled", CAST, recent, "", random.Random(s), is_human_input=False)[0]
             for s in range(40)}
    assert picks == {1, 2}


def test_pooled_after_a_human_message_anyone_may_speak():
    recent = [("character", 1), ("character", 2), ("user", None)]
    picks = {activate("pooled", CAST, recent, "", random.Random(s))[0] for s in range(60)}
    assert picks == {1, 2, 3}


def test_manual_never_picks_anyone_by_itself():
    assert activate("manual", CAST, AFTER_HUMAN, "Alice, speak!", random.Random(0)) == []


def test_nobody_to_pick_from_means_nobody_speaks():
    assert activate("natural", [], AFTER_HUMAN, "hello", random.Random(0)) == []


def test_an_unknown_strategy_is_refused():
    with pytest.raises(ValueError):
        activate("shuffle", CAST, AFTER_HUMAN, "", random.Random(0))


@pytest.mark.parametrize("extensions, expected", [
    ({"talkativeness": 0.9}, 0.9), ({"talkativeness": "0.2"}, 0.2), ({"talkativeness": 7}, 1.0),
    ({"talkativeness": -1}, 0.0), ({"talkativeness": "loud"}, 0.5), ({}, 0.5), (None, 0.5),
    ({"talkativeness": float("nan")}, 0.5),
])
def test_talkativeness_comes_from_the_cards_extensions(extensions, expected):
    assert talkativeness_of(extensions) == expected
