"""Behaviour of banner rules: validation, pity schedule and per-state rarity distribution."""

import math

import pytest

from gacha.rates import RARITIES, BannerRules, rarity_thresholds


def test_default_rules_use_published_base_rates_and_pity():
    rules = BannerRules()
    assert rules.base_rates() == {"SSR": 0.015, "SR": 0.10, "R": 0.35, "N": 0.535}
    assert (rules.soft_pity_start, rules.soft_pity_step, rules.hard_pity) == (74, 0.06, 90)
    assert rules.ten_pull_guarantee and rules.featured_ssr_share == 0.5


def test_ssr_probability_is_base_rate_before_soft_pity():
    rules = BannerRules()
    assert all(rules.ssr_probability(pity) == 0.015 for pity in range(73))


def test_soft_pity_adds_six_points_per_pull_from_pull_74():
    rules = BannerRules()
    for pull_number in range(74, 90):
        expected = 0.015 + 0.06 * (pull_number - 73)
        assert rules.ssr_probability(pull_number - 1) == pytest.approx(expected)
    assert rules.ssr_probability(73) == pytest.approx(0.075)
    assert rules.ssr_probability(88) == pytest.approx(0.975)


def test_hard_pity_probability_is_one_at_pull_90():
    assert BannerRules().ssr_probability(89) == 1.0


def test_soft_pity_probability_is_capped_at_one():
    rules = BannerRules(soft_pity_step=0.5)
    assert rules.ssr_probability(80) == 1.0


def test_rarity_distribution_sums_to_one_in_every_pity_state():
    for rules in (BannerRules(), BannerRules(ten_pull_guarantee=False)):
        for pity in range(rules.hard_pity):
            for sr_count in range(rules.sr_counter_states()):
                distribution = rules.rarity_distribution(pity, sr_count)
                assert list(distribution) == list(RARITIES)
                assert all(p >= 0 for p in distribution.values())
                assert math.fsum(distribution.values()) == pytest.approx(1.0, abs=1e-12)


def test_tenth_pull_without_sr_can_only_be_sr_or_better():
    rules = BannerRules()
    distribution = rules.rarity_distribution(20, 9)
    assert distribution == {"SSR": 0.015, "SR": 0.985, "R": 0.0, "N": 0.0}


def test_non_ssr_rarities_shrink_proportionally_during_soft_pity():
    rules = BannerRules()
    distribution = rules.rarity_distribution(80, 0)
    p_ssr = rules.ssr_probability(80)
    scale = (1 - p_ssr) / 0.985
    assert distribution["SR"] == pytest.approx(0.10 * scale)
    assert distribution["R"] == pytest.approx(0.35 * scale)
    assert distribution["N"] == pytest.approx(0.535 * scale)


def test_rules_without_guarantee_ignore_the_sr_counter():
    rules = BannerRules(ten_pull_guarantee=False)
    assert rules.rarity_distribution(5, 40) == rules.rarity_distribution(5, 0)


def test_thresholds_are_cumulative_sums_of_the_distribution():
    rules = BannerRules()
    table = rarity_thresholds(rules)
    entries = table[10][3]
    distribution = rules.rarity_distribution(10, 3)
    assert [name for name, _ in entries] == ["SSR", "SR", "R", "N"]
    assert entries[-1][1] == pytest.approx(1.0)
    assert entries[1][1] == pytest.approx(distribution["SSR"] + distribution["SR"])
    assert [name for name, _ in table[89][0]] == ["SSR"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"ssr_rate": 0.02}, "sum to 1"),
        ({"r_rate": -0.1, "n_rate": 0.985}, r"R rate must be >= 0"),
        ({"n_rate": float("nan")}, "finite"),
        ({"soft_pity_start": 90}, r"soft_pity_start \(90\) must be < hard_pity \(90\)"),
        ({"soft_pity_start": 0}, "soft_pity_start must be >= 1"),
        ({"hard_pity": 90.0}, "hard_pity must be an int"),
        ({"soft_pity_step": -0.01}, "soft_pity_step"),
        ({"featured_ssr_share": 1.5}, "featured_ssr_share"),
        ({"featured_sr_share": -0.1}, "featured_sr_share"),
        ({"sr_rate": 0.0, "n_rate": 0.635}, "ten_pull_guarantee requires sr_rate > 0"),
        ({"ten_pull_guarantee": 1}, "ten_pull_guarantee must be a bool"),
    ],
)
def test_invalid_rules_are_rejected(overrides, message):
    with pytest.raises(ValueError, match=message):
        BannerRules(**overrides)


@pytest.mark.parametrize(("pity", "sr_count"), [(-1, 0), (90, 0), (0, 10), (0, -1)])
def test_impossible_pity_states_are_rejected(pity, sr_count):
    with pytest.raises(ValueError):
        BannerRules().rarity_distribution(pity, sr_count)
