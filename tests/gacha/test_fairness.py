"""Behaviour of the commit-reveal fairness primitives."""

import hashlib
import hmac
import re
from fractions import Fraction

import pytest

from gacha.fairness import new_server_seed, pick_index, roll, roll_int, seed_hash, seed_matches_hash


def _published_roll(server_seed, message):
    digest = hmac.new(server_seed.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).hexdigest()
    return int(digest[:13], 16) / 2**52


def test_roll_matches_published_hmac_formula():
    server_seed = new_server_seed()
    for nonce in (0, 1, 7, 123456789):
        assert roll(server_seed, "player-chosen seed", nonce) == _published_roll(
            server_seed, f"player-chosen seed:{nonce}"
        )


def test_roll_matches_formula_for_a_fixed_vector():
    server_seed = "00" * 32
    assert roll(server_seed, "alice", 0) == _published_roll(server_seed, "alice:0")
    assert roll(server_seed, "alice", 0) != roll(server_seed, "alice", 1)


def test_sub_index_rolls_append_the_index_to_the_message():
    server_seed = new_server_seed()
    assert roll(server_seed, "c", 5, 1) == _published_roll(server_seed, "c:5:1")
    assert roll(server_seed, "c", 5, 2) == _published_roll(server_seed, "c:5:2")
    assert roll(server_seed, "c", 5, 0) == roll(server_seed, "c", 5)


def test_roll_int_is_the_first_52_bits_of_the_hmac():
    server_seed = new_server_seed()
    digest = hmac.new(server_seed.encode(), b"c:9", hashlib.sha256).digest()
    assert roll_int(server_seed, "c", 9) == int.from_bytes(digest, "big") >> (256 - 52)


def test_rolls_are_in_the_unit_interval():
    server_seed = new_server_seed()
    values = [roll(server_seed, "c", nonce) for nonce in range(5000)]
    assert all(0.0 <= value < 1.0 for value in values)
    assert 0.45 < sum(values) / len(values) < 0.55


def test_seed_hash_is_sha256_hex_of_the_server_seed():
    server_seed = new_server_seed()
    assert seed_hash(server_seed) == hashlib.sha256(server_seed.encode()).hexdigest()
    assert seed_matches_hash(server_seed, seed_hash(server_seed).upper())
    assert not seed_matches_hash(new_server_seed(), seed_hash(server_seed))


def test_new_server_seeds_are_64_hex_chars_and_unique():
    seeds = {new_server_seed() for _ in range(100)}
    assert len(seeds) == 100
    assert all(re.fullmatch(r"[0-9a-f]{64}", seed) for seed in seeds)


@pytest.mark.parametrize(
    ("client_seed", "nonce", "sub_index"),
    [("a:b", 0, 0), ("", 0, 0), ("x" * 129, 0, 0), ("bad\n", 0, 0), ("ok", -1, 0), ("ok", 1.0, 0), ("ok", 0, -1)],
)
def test_ambiguous_or_invalid_roll_inputs_are_rejected(client_seed, nonce, sub_index):
    with pytest.raises(ValueError):
        roll(new_server_seed(), client_seed, nonce, sub_index)


def test_empty_server_seed_is_rejected():
    with pytest.raises(ValueError):
        roll("", "c", 0)


def test_pick_index_is_exact_floor_of_roll_times_count():
    server_seed = new_server_seed()
    for nonce in range(300):
        value = roll_int(server_seed, "c", nonce)
        for count in (1, 3, 7, 1000):
            assert pick_index(value, count) == int(Fraction(value, 2**52) * count)
    assert pick_index(2**52 - 1, 3) == 2
