"""Behaviour of the statistical audit: a million real draws must match the published consolidated rates."""

import math
import random

import pytest

from gacha.audit import audit, chi_square_survival
from gacha.draw import Pool
from gacha.rates import BannerRules

POOL = Pool.from_mapping(
    {
        "SSR": [{"id": "aria", "featured": True}, "bran", "cora"],
        "SR": [{"id": "dax", "featured": True}, "eve", "fin"],
        "R": [{"id": "gus", "featured": True}, "hal", "ivy"],
        "N": ["jo", "kit"],
    }
)


def test_million_pulls_match_consolidated_rates_chi_square_99_9():
    result = audit(BannerRules(), POOL, 1_000_000, rng=random.Random(20240601))
    assert sum(result["observed"].values()) == 1_000_000
    assert result["dof"] == 3
    assert result["p_value"] > 0.001
    assert result["markov_p_value"] > 0.001
    assert result["max_pulls_between_ssr"] <= result["hard_pity"] == 90
    assert result["max_pulls_between_sr_or_better"] <= 10
    assert result["featured_ssr_observed"] == pytest.approx(result["featured_ssr_expected"], rel=0.03)
    assert result["elapsed_seconds"] < 60


def test_audit_detects_draws_that_differ_from_the_disclosed_rates():
    published = BannerRules(ssr_rate=0.0135, n_rate=0.5365)
    result = audit(BannerRules(), POOL, 200_000, disclosed_rules=published, rng=random.Random(7))
    assert result["markov_p_value"] < 1e-6


def test_audit_detects_a_missing_ten_pull_guarantee():
    result = audit(
        BannerRules(ten_pull_guarantee=False), POOL, 100_000, disclosed_rules=BannerRules(), rng=random.Random(8)
    )
    assert result["p_value"] < 1e-6 and result["markov_p_value"] < 1e-6


def test_audit_with_secret_random_seeds_rotates_server_seeds():
    result = audit(BannerRules(), POOL, 25_005, pulls_per_server_seed=10_000)
    assert result["server_seeds_used"] == 3
    assert sum(result["observed"].values()) == 25_005


@pytest.mark.parametrize("dof", [1, 2, 3, 4, 7, 10])
def test_chi_square_survival_matches_closed_forms(dof):
    for x in (0.1, 1.0, 5.0, 30.0):
        if dof == 1:
            expected = math.erfc(math.sqrt(x / 2))
        elif dof == 2:
            expected = math.exp(-x / 2)
        elif dof == 3:
            expected = math.erfc(math.sqrt(x / 2)) + math.sqrt(2 * x / math.pi) * math.exp(-x / 2)
        elif dof == 4:
            expected = math.exp(-x / 2) * (1 + x / 2)
        else:
            continue
        assert chi_square_survival(x, dof) == pytest.approx(expected, rel=1e-12)
    assert chi_square_survival(0.0, dof) == 1.0


def test_chi_square_survival_matches_scipy():
    stats = pytest.importorskip("scipy.stats")
    for dof in (1, 2, 3, 5, 8, 31):
        for x in (0.01, 0.7, 3.0, 16.27, 80.0, 400.0):
            assert chi_square_survival(x, dof) == pytest.approx(stats.chi2.sf(x, dof), rel=1e-9, abs=1e-300)
    assert chi_square_survival(16.266236196238129, 3) == pytest.approx(0.001, rel=1e-9)
