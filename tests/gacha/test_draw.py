"""Behaviour of deterministic draws, pity, the 50/50 and verification from the revealed seed."""

import dataclasses
import json
import random

import pytest

from gacha.draw import Card, PityState, Pool, draw_many, draw_one, verify, verify_history
from gacha.fairness import new_server_seed, pick_index, roll_int, seed_hash
from gacha.rates import BannerRules, rarity_thresholds

RULES = BannerRules()
POOL = Pool.from_mapping(
    {
        "SSR": [{"id": "aria", "featured": True}, "bran", "cora"],
        "SR": [{"id": "dax", "featured": True}, "eve", "fin"],
        "R": [{"id": "gus", "featured": True}, "hal", "ivy"],
        "N": ["jo", "kit"],
    }
)


def _seeds(count, seed=1):
    rng = random.Random(seed)
    return [(f"{rng.getrandbits(256):064x}", f"client{rng.getrandbits(32)}") for _ in range(count)]


def test_hard_pity_always_gives_ssr_at_pull_90():
    for i, (server_seed, client_seed) in enumerate(_seeds(500)):
        state = PityState(pulls_since_ssr=89, pulls_since_sr=i % 10, lost_5050=bool(i % 2))
        result, new_state = draw_one(RULES, POOL, state, server_seed, client_seed, i)
        assert result.rarity == "SSR"
        assert result.pity_before == 89
        assert (new_state.pulls_since_ssr, new_state.pulls_since_sr) == (0, 0)


def test_long_play_never_goes_past_hard_pity_without_ssr():
    rules = BannerRules(ssr_rate=0.0, sr_rate=0.1, r_rate=0.4, n_rate=0.5, soft_pity_step=0.0)
    state, nonce = PityState(), 0
    server_seed, client_seed = _seeds(1)[0]
    gaps = []
    for _ in range(100):
        results, state = draw_many(rules, POOL, state, server_seed, client_seed, nonce, 10)
        nonce += 10
        gaps += [r.pity_before + 1 for r in results if r.rarity == "SSR"]
    assert gaps == [90] * 11


def test_ten_pull_always_contains_sr_or_better():
    rng = random.Random(2)
    for server_seed, client_seed in _seeds(1000, seed=3):
        state = PityState(rng.randrange(90), rng.randrange(10), rng.random() < 0.5)
        results, _ = draw_many(RULES, POOL, state, server_seed, client_seed, rng.randrange(10**6), 10)
        assert any(r.rarity in ("SR", "SSR") for r in results)


def test_single_pulls_never_go_ten_in_a_row_without_sr_or_better():
    server_seed, client_seed = _seeds(1)[0]
    state, run, longest = PityState(), 0, 0
    for nonce in range(20000):
        result, state = draw_one(RULES, POOL, state, server_seed, client_seed, nonce)
        run = 0 if result.rarity in ("SR", "SSR") else run + 1
        longest = max(longest, run)
    assert longest <= 9


def test_lost_5050_guarantees_next_ssr_is_featured():
    for i, (server_seed, client_seed) in enumerate(_seeds(300)):
        state = PityState(89, 0, lost_5050=True)
        result, new_state = draw_one(RULES, POOL, state, server_seed, client_seed, i)
        assert result.rarity == "SSR" and result.featured and result.card_id == "aria"
        assert result.guaranteed_featured and result.was_5050_won is None and result.featured_roll is None
        assert new_state.lost_5050 is False


def test_losing_the_5050_arms_the_guarantee_for_the_next_ssr():
    losses = 0
    for i, (server_seed, client_seed) in enumerate(_seeds(200)):
        result, state = draw_one(RULES, POOL, PityState(89, 0, False), server_seed, client_seed, i)
        assert result.rarity == "SSR" and result.was_5050_won is result.featured
        if result.was_5050_won:
            assert not state.lost_5050
            continue
        losses += 1
        assert result.card_id in ("bran", "cora") and state.lost_5050
        nonce = i + 1
        while True:
            results, state = draw_many(RULES, POOL, state, server_seed, client_seed, nonce, 10)
            nonce += 10
            ssrs = [r for r in results if r.rarity == "SSR"]
            if ssrs:
                assert ssrs[0].featured and ssrs[0].guaranteed_featured
                break
    assert losses > 50


def test_ssr_5050_is_won_about_half_the_time():
    wins = [
        draw_one(RULES, POOL, PityState(89), server_seed, client_seed, 0)[0].was_5050_won
        for server_seed, client_seed in _seeds(4000, seed=5)
    ]
    assert abs(sum(wins) / len(wins) - 0.5) < 4 * (0.25 / len(wins)) ** 0.5


def test_featured_sr_gets_its_rate_up_share():
    server_seed, client_seed = _seeds(1)[0]
    state, counts = PityState(), {"dax": 0, "eve": 0, "fin": 0}
    for nonce in range(0, 60000, 10):
        results, state = draw_many(RULES, POOL, state, server_seed, client_seed, nonce, 10)
        for r in results:
            if r.rarity == "SR":
                counts[r.card_id] += 1
    total = sum(counts.values())
    assert abs(counts["dax"] / total - 0.5) < 0.03
    assert abs(counts["eve"] / total - 0.25) < 0.03


def test_standard_only_ssr_pool_never_arms_the_guarantee():
    pool = Pool.from_mapping({"SSR": ["s1", "s2"], "SR": ["sr"], "R": ["r"], "N": ["n"]})
    for i, (server_seed, client_seed) in enumerate(_seeds(50)):
        result, state = draw_one(RULES, pool, PityState(89), server_seed, client_seed, i)
        assert not result.featured and result.was_5050_won is None and not state.lost_5050


def test_state_transitions_reset_the_right_counters():
    server_seed, client_seed = _seeds(1)[0]
    state = PityState(30, 4)
    for nonce in range(200):
        result, new_state = draw_one(RULES, POOL, state, server_seed, client_seed, nonce)
        if result.rarity == "SSR":
            assert (new_state.pulls_since_ssr, new_state.pulls_since_sr) == (0, 0)
        elif result.rarity == "SR":
            assert (new_state.pulls_since_ssr, new_state.pulls_since_sr) == (state.pulls_since_ssr + 1, 0)
        else:
            assert new_state == PityState(state.pulls_since_ssr + 1, state.pulls_since_sr + 1, state.lost_5050)
        state = new_state


def test_rarity_and_card_follow_the_published_roll_scheme():
    server_seed, client_seed = _seeds(1)[0]
    state = PityState()
    table = rarity_thresholds(RULES)
    for nonce in range(3000):
        result, next_state = draw_one(RULES, POOL, state, server_seed, client_seed, nonce)
        entries = table[state.pulls_since_ssr][state.pulls_since_sr]
        expected_rarity = next((name for name, cum in entries if result.rarity_roll < cum), entries[-1][0])
        assert result.rarity == expected_rarity
        assert result.rarity_roll == roll_int(server_seed, client_seed, nonce) / 2**52
        group = POOL.featured_ids(result.rarity) if result.featured else POOL.standard_ids(result.rarity)
        card_value = roll_int(server_seed, client_seed, nonce, 2)
        assert result.card_roll == card_value / 2**52
        assert result.card_id == group[pick_index(card_value, len(group))]
        state = next_state


def test_draws_are_deterministic_given_seeds_nonce_and_state():
    server_seed, client_seed = _seeds(1)[0]
    first = draw_many(RULES, POOL, PityState(70, 3, True), server_seed, client_seed, 40, 10)
    second = draw_many(RULES, POOL, PityState(70, 3, True), server_seed, client_seed, 40, 10)
    assert first == second
    other = draw_many(RULES, POOL, PityState(70, 3, True), server_seed, "another", 40, 10)
    assert [r.rarity_roll for r in first[0]] != [r.rarity_roll for r in other[0]]


def test_ten_pull_equals_ten_chained_single_pulls_with_consecutive_nonces():
    server_seed, client_seed = _seeds(1)[0]
    results, final = draw_many(RULES, POOL, PityState(80, 5), server_seed, client_seed, 100, 10)
    state, singles = PityState(80, 5), []
    for nonce in range(100, 110):
        result, state = draw_one(RULES, POOL, state, server_seed, client_seed, nonce)
        singles.append(result)
    assert results == singles and final == state
    assert [r.nonce for r in results] == list(range(100, 110))


@pytest.mark.parametrize("count", [0, 2, 5, 11])
def test_draw_many_only_allows_single_or_ten_pulls(count):
    with pytest.raises(ValueError, match="count must be one of"):
        draw_many(RULES, POOL, PityState(), new_server_seed(), "c", 0, count)


def test_verify_recomputes_pull_from_revealed_seed():
    server_seed = new_server_seed()
    published = seed_hash(server_seed)
    results, _ = draw_many(RULES, POOL, PityState(85, 2, True), server_seed, "me", 0, 10)
    for result in results:
        revealed = json.loads(json.dumps(result.to_dict()))
        assert verify(RULES, POOL, type(result)(**revealed), server_seed, "me", published)


def test_verify_rejects_tampered_results_and_wrong_seeds():
    server_seed = new_server_seed()
    result, _ = draw_one(RULES, POOL, PityState(89), server_seed, "me", 3)
    other_card = "bran" if result.card_id != "bran" else "cora"
    assert not verify(RULES, POOL, dataclasses.replace(result, card_id=other_card), server_seed, "me")
    assert not verify(RULES, POOL, dataclasses.replace(result, rarity="N"), server_seed, "me")
    assert not verify(RULES, POOL, dataclasses.replace(result, pity_before=95), server_seed, "me")
    assert not verify(RULES, POOL, result, new_server_seed(), "me")
    assert not verify(RULES, POOL, result, server_seed, "someone-else")
    assert not verify(RULES, POOL, result, server_seed, "me", seed_hash(new_server_seed()))


def test_verify_history_replays_a_session_and_detects_tampering():
    server_seed = new_server_seed()
    published = seed_hash(server_seed)
    state, history = PityState(), []
    for nonce in range(0, 200, 10):
        results, state = draw_many(RULES, POOL, state, server_seed, "me", nonce, 10)
        history += results
    assert verify_history(RULES, POOL, PityState(), history, server_seed, "me", published)
    swapped = history[:5] + [history[6], history[5]] + history[7:]
    assert not verify_history(RULES, POOL, PityState(), swapped, server_seed, "me", published)
    assert not verify_history(RULES, POOL, PityState(), history[:3] + history[4:], server_seed, "me")
    assert not verify_history(RULES, POOL, PityState(10), history, server_seed, "me")


def test_pool_round_trips_through_its_plain_mapping_and_has_a_stable_digest():
    mapping = POOL.to_mapping()
    assert Pool.from_mapping(mapping) == POOL
    assert Pool.from_mapping(json.loads(json.dumps(mapping))).digest() == POOL.digest()
    reordered = Pool(tuple(reversed(POOL.cards)))
    assert reordered.digest() != POOL.digest()


@pytest.mark.parametrize(
    ("cards", "message"),
    [
        ((Card("a", "SSR"), Card("a", "SR")), "duplicate card_id"),
        ((Card("a", "UR"),), "unknown rarity"),
        ((Card("", "SSR"),), "non-empty"),
        ((Card("a", "N", featured=True),), "N cards cannot be featured"),
        ((Card("a", "SSR", featured="yes"),), "must be a bool"),
    ],
)
def test_malformed_pools_are_rejected(cards, message):
    with pytest.raises(ValueError, match=message):
        Pool(cards)


def test_pool_missing_a_drawable_rarity_is_rejected():
    pool = Pool.from_mapping({"SSR": ["s"], "SR": ["sr"], "N": ["n"]})
    with pytest.raises(ValueError, match="no R card"):
        draw_one(RULES, pool, PityState(), new_server_seed(), "c", 0)


@pytest.mark.parametrize("state", [PityState(90, 0), PityState(0, 10)])
def test_impossible_pity_states_are_rejected(state):
    with pytest.raises(ValueError, match="impossible"):
        draw_one(RULES, POOL, state, new_server_seed(), "c", 0)


def test_negative_pity_counters_are_rejected():
    with pytest.raises(ValueError):
        PityState(-1, 0)
