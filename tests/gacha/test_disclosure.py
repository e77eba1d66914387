"""Behaviour of the published odds: base and pity-consolidated rates checked against independent Markov chains."""

import json
import math

import numpy as np
import pytest

from gacha.disclosure import (
    consolidated_rarity_rates,
    count_covariance_per_pull,
    disclosure,
    expected_pulls_to_ssr,
    featured_ssr_share_long_run,
    pulls_to_ssr_distribution,
)
from gacha.draw import Pool
from gacha.rates import RARITIES, BannerRules

RULES = BannerRules()
POOL = Pool.from_mapping(
    {
        "SSR": [{"id": "aria", "featured": True}, "bran", "cora"],
        "SR": [{"id": "dax", "featured": True}, "eve", "fin"],
        "R": [{"id": "gus", "featured": True}, "hal", "ivy"],
        "N": ["jo", "kit"],
    }
)


def _stationary(transition):
    size = transition.shape[0]
    system = np.vstack([transition.T - np.eye(size), np.ones(size)])
    target = np.zeros(size + 1)
    target[-1] = 1.0
    return np.linalg.lstsq(system, target, rcond=None)[0]


def test_disclosed_rates_sum_to_one():
    published = disclosure(RULES, POOL)
    rarities = published["rarities"].values()
    assert math.fsum(r["base_rate"] for r in rarities) == pytest.approx(1.0, abs=1e-12)
    assert math.fsum(r["consolidated_rate"] for r in rarities) == pytest.approx(1.0, abs=1e-12)
    assert math.fsum(i["base_probability"] for i in published["items"]) == pytest.approx(1.0, abs=1e-12)
    assert math.fsum(i["consolidated_probability"] for i in published["items"]) == pytest.approx(1.0, abs=1e-12)
    assert math.fsum(published["ssr"]["pulls_to_ssr_probability"]) == pytest.approx(1.0, abs=1e-12)
    assert published["ssr"]["pulls_to_ssr_cumulative"][-1] == pytest.approx(1.0)


def test_consolidated_ssr_rate_matches_markov_expectation():
    # Independent chain over "pulls since SSR", with the schedule written out from the banner text.
    schedule = [0.015] * 73 + [0.015 + 0.06 * (n - 73) for n in range(74, 90)] + [1.0]
    transition = np.zeros((90, 90))
    for pity, p in enumerate(schedule):
        transition[pity, 0] += p
        if pity + 1 < 90:
            transition[pity, pity + 1] += 1 - p
    stationary = _stationary(transition)
    markov_rate = float(stationary @ np.array(schedule))
    assert consolidated_rarity_rates(RULES)["SSR"] == pytest.approx(markov_rate, rel=1e-12)
    assert expected_pulls_to_ssr(RULES) == pytest.approx(1 / markov_rate, rel=1e-12)
    assert markov_rate == pytest.approx(0.0217043, abs=1e-7)


def test_consolidated_rarity_rates_match_joint_pity_chain_stationary_distribution():
    index = {(pity, sr): pity * 10 + sr for pity in range(90) for sr in range(10)}
    transition = np.zeros((900, 900))
    emission = np.zeros((900, 4))
    for (pity, sr), i in index.items():
        distribution = RULES.rarity_distribution(pity, sr)
        emission[i] = [distribution[r] for r in RARITIES]
        transition[i, index[0, 0]] += distribution["SSR"]
        if pity + 1 < 90:
            transition[i, index[pity + 1, 0]] += distribution["SR"]
            if sr + 1 < 10:
                transition[i, index[pity + 1, sr + 1]] += distribution["R"] + distribution["N"]
    expected = _stationary(transition) @ emission
    rates = consolidated_rarity_rates(RULES)
    for k, rarity in enumerate(RARITIES):
        assert rates[rarity] == pytest.approx(expected[k], rel=1e-9)


def test_ten_pull_guarantee_raises_the_consolidated_sr_rate():
    with_guarantee = consolidated_rarity_rates(RULES)
    without = consolidated_rarity_rates(BannerRules(ten_pull_guarantee=False))
    assert with_guarantee["SR"] > without["SR"]
    assert without["SR"] == pytest.approx(0.10 * (1 - without["SSR"]) / 0.985, rel=1e-12)
    assert with_guarantee["SSR"] == pytest.approx(without["SSR"])


def test_pulls_to_ssr_distribution_stops_at_hard_pity():
    distribution = pulls_to_ssr_distribution(RULES)
    assert len(distribution) == 90
    assert distribution[0] == pytest.approx(0.015)
    assert distribution[72] == pytest.approx(0.015 * 0.985**72)
    survival_to_90 = 0.985**73 * math.prod(1 - (0.015 + 0.06 * k) for k in range(1, 17))
    assert distribution[89] == pytest.approx(survival_to_90)


def test_long_run_featured_ssr_share_is_two_thirds_with_a_5050_and_guarantee():
    assert featured_ssr_share_long_run(RULES, POOL) == pytest.approx(2 / 3)
    lost_chain = np.array([[0.5, 0.5], [1.0, 0.0]])  # state 0: guarantee not armed, 1: armed
    stationary = _stationary(lost_chain)
    assert featured_ssr_share_long_run(RULES, POOL) == pytest.approx(stationary[0] * 0.5 + stationary[1])
    published = disclosure(RULES, POOL)["ssr"]
    assert published["featured_rate_long_run"] == pytest.approx(consolidated_rarity_rates(RULES)["SSR"] * 2 / 3)
    assert published["expected_pulls_to_featured_ssr"] == pytest.approx(1.5 * expected_pulls_to_ssr(RULES))
    assert published["max_pulls_to_featured_ssr"] == 180


def test_item_rates_split_each_rarity_by_featured_share():
    items = {item["card_id"]: item for item in disclosure(RULES, POOL)["items"]}
    rates = consolidated_rarity_rates(RULES)
    assert items["aria"]["base_probability"] == pytest.approx(0.015 * 0.5)
    assert items["bran"]["base_probability"] == pytest.approx(0.015 * 0.25)
    assert items["aria"]["consolidated_probability"] == pytest.approx(rates["SSR"] * 2 / 3)
    assert items["cora"]["consolidated_probability"] == pytest.approx(rates["SSR"] / 6)
    assert items["dax"]["consolidated_probability"] == pytest.approx(rates["SR"] * 0.5)
    assert items["jo"]["consolidated_probability"] == pytest.approx(rates["N"] / 2)


def test_featured_only_and_standard_only_ssr_pools_have_no_5050():
    featured_only = Pool.from_mapping({"SSR": [{"id": "a", "featured": True}], "SR": ["b"], "R": ["c"], "N": ["d"]})
    standard_only = Pool.from_mapping({"SSR": ["a"], "SR": ["b"], "R": ["c"], "N": ["d"]})
    assert featured_ssr_share_long_run(RULES, featured_only) == 1.0
    assert featured_ssr_share_long_run(RULES, standard_only) == 0.0
    assert disclosure(RULES, standard_only)["ssr"]["expected_pulls_to_featured_ssr"] is None


def test_disclosure_is_json_ready():
    published = disclosure(RULES, POOL)
    assert json.loads(json.dumps(published)) == published
    assert published["pool_digest"] == POOL.digest()


def test_count_covariance_is_multinomial_when_pity_never_matters():
    rules = BannerRules(soft_pity_step=0.0, soft_pity_start=1999, hard_pity=2000, ten_pull_guarantee=False)
    rates = consolidated_rarity_rates(rules)
    covariance = count_covariance_per_pull(rules)
    for a in RARITIES:
        for b in RARITIES:
            multinomial = (rates[a] if a == b else 0.0) - rates[a] * rates[b]
            assert covariance[a][b] == pytest.approx(multinomial, abs=1e-9)


def test_pity_makes_rarity_counts_less_variable_than_multinomial():
    rates = consolidated_rarity_rates(RULES)
    covariance = count_covariance_per_pull(RULES)
    for rarity in ("SSR", "SR"):
        assert covariance[rarity][rarity] < rates[rarity] * (1 - rates[rarity])
    for row in covariance.values():
        assert math.fsum(row.values()) == pytest.approx(0.0, abs=1e-12)
