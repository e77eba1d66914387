"""Statistical audit: simulate pulls through the real draw path and test them against the disclosure."""

from __future__ import annotations

import math
import random
import secrets
import time

from gacha.disclosure import consolidated_rarity_rates, count_covariance_per_pull, featured_ssr_share_long_run
from gacha.draw import PityState, Pool, check_pool, draw_many
from gacha.fairness import new_server_seed
from gacha.rates import RARITIES, SR, SSR, BannerRules


def audit(
    rules: BannerRules,
    pool: Pool,
    pulls: int = 1_000_000,
    *,
    disclosed_rules: BannerRules | None = None,
    pulls_per_server_seed: int = 10_000,
    rng: random.Random | None = None,
) -> dict:
    """Simulate ``pulls`` pulls with ``draw_many`` and compare rarity counts to the disclosed rates.

    One simulated player keeps its pity state throughout while the server seed (and a fresh
    client seed) rotates every ``pulls_per_server_seed`` pulls, as in production. Seeds come from
    ``secrets`` unless ``rng`` is given (for a reproducible audit). Expected rates come from
    ``disclosed_rules`` (default: ``rules``), so a draw engine can be audited against what was
    published.

    Two chi-square statistics are returned, both with (number of rarities with positive rate - 1)
    degrees of freedom:

    - ``chi_square`` / ``p_value``: Pearson's test, which assumes independent pulls. Pity makes
      pulls negatively correlated (counts vary less than multinomial ones), so under the null
      this statistic is smaller than chi-square and the test is conservative.
    - ``markov_chi_square`` / ``markov_p_value``: the same deviations weighted by the exact
      asymptotic covariance of the pity Markov chain (``count_covariance_per_pull``), which is
      chi-square distributed under the null for large ``pulls`` and therefore much more sensitive.
    """
    if isinstance(pulls, bool) or not isinstance(pulls, int) or pulls < 1:
        raise ValueError(f"pulls must be an int >= 1, got {pulls!r}")
    if pulls_per_server_seed < 10:
        raise ValueError(f"pulls_per_server_seed must be >= 10, got {pulls_per_server_seed}")
    check_pool(rules, pool)
    claimed = disclosed_rules if disclosed_rules is not None else rules
    started = time.perf_counter()

    counts = dict.fromkeys(RARITIES, 0)
    featured_ssr = 0
    max_ssr_gap = 0
    max_sr_gap = 0
    seeds_used = 0
    state = PityState()
    done = 0
    while done < pulls:
        server_seed, client_seed = _seeds(rng)
        seeds_used += 1
        nonce = 0
        stop = min(pulls, done + pulls_per_server_seed)
        while done < stop:
            count = 10 if stop - done >= 10 else 1
            results, state = draw_many(rules, pool, state, server_seed, client_seed, nonce, count)
            nonce += count
            done += count
            for result in results:
                rarity = result.rarity
                counts[rarity] += 1
                if rarity == SSR or rarity == SR:
                    if result.pulls_since_sr_before >= max_sr_gap:
                        max_sr_gap = result.pulls_since_sr_before + 1
                    if rarity == SSR:
                        if result.pity_before >= max_ssr_gap:
                            max_ssr_gap = result.pity_before + 1
                        featured_ssr += result.featured

    rates = consolidated_rarity_rates(claimed)
    expected = {rarity: pulls * rates[rarity] for rarity in RARITIES}
    pearson, dof = _pearson(counts, expected)
    markov = _markov_chi_square(counts, rates, count_covariance_per_pull(claimed), pulls)
    featured_share = featured_ssr_share_long_run(claimed, pool)
    return {
        "pulls": pulls,
        "observed": counts,
        "expected": expected,
        "consolidated_rates": rates,
        "chi_square": pearson,
        "dof": dof,
        "p_value": chi_square_survival(pearson, dof),
        "markov_chi_square": markov,
        "markov_p_value": chi_square_survival(markov, dof),
        "max_pulls_between_ssr": max_ssr_gap,
        "hard_pity": claimed.hard_pity,
        "max_pulls_between_sr_or_better": max_sr_gap,
        "featured_ssr_observed": featured_ssr,
        "featured_ssr_expected": expected[SSR] * featured_share,
        "server_seeds_used": seeds_used,
        "elapsed_seconds": time.perf_counter() - started,
    }


def chi_square_survival(statistic: float, dof: int) -> float:
    """P(X >= statistic) for X ~ chi-square with integer ``dof``, in closed form.

    Even dof: ``exp(-x/2) * sum_{i < dof/2} (x/2)^i / i!``; odd dof:
    ``erfc(sqrt(x/2)) + exp(-x/2) * sum_{i <= (dof-3)/2} (x/2)^(i+1/2) / Gamma(i+3/2)``.
    Terms are summed in log space, so this is accurate to a few ulps for any dof and x.
    """
    if isinstance(dof, bool) or not isinstance(dof, int) or dof < 1:
        raise ValueError(f"dof must be an int >= 1, got {dof!r}")
    if math.isnan(statistic):
        raise ValueError("statistic must not be NaN")
    if statistic <= 0:
        return 1.0
    if math.isinf(statistic):
        return 0.0
    half = statistic / 2.0
    log_half = math.log(half)
    if dof % 2 == 0:
        total = 0.0
        offsets = range(dof // 2)
        shift = 0.0
    else:
        total = math.erfc(math.sqrt(half))
        offsets = range((dof - 1) // 2)
        shift = 0.5
    for i in offsets:
        total += math.exp(-half + (i + shift) * log_half - math.lgamma(i + shift + 1))
    return min(1.0, total)


def _seeds(rng: random.Random | None) -> tuple[str, str]:
    if rng is None:
        return new_server_seed(), secrets.token_hex(8)
    return f"{rng.getrandbits(256):064x}", f"{rng.getrandbits(64):016x}"


def _pearson(observed: dict[str, int], expected: dict[str, float]) -> tuple[float, int]:
    statistic = 0.0
    categories = 0
    for rarity in RARITIES:
        if expected[rarity] > 0:
            categories += 1
            statistic += (observed[rarity] - expected[rarity]) ** 2 / expected[rarity]
        elif observed[rarity]:
            statistic = math.inf
    return statistic, max(categories - 1, 1)


def _markov_chi_square(
    observed: dict[str, int], rates: dict[str, float], covariance: dict[str, dict[str, float]], pulls: int
) -> float:
    positive = [rarity for rarity in RARITIES if rates[rarity] > 0]
    if any(observed[rarity] for rarity in RARITIES if rates[rarity] <= 0):
        return math.inf
    # Counts sum to `pulls`, so the covariance is singular; dropping one category removes that.
    kept = positive[:-1]
    if not kept:
        return 0.0
    deviation = [observed[rarity] - pulls * rates[rarity] for rarity in kept]
    matrix = [[pulls * covariance[a][b] for b in kept] for a in kept]
    solution = _solve(matrix, deviation)
    return sum(d * s for d, s in zip(deviation, solution))


def _solve(matrix: list[list[float]], vector: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting for the small systems above."""
    size = len(vector)
    rows = [row[:] + [value] for row, value in zip(matrix, vector)]
    for column in range(size):
        pivot = max(range(column, size), key=lambda r: abs(rows[r][column]))
        if rows[pivot][column] == 0:
            raise ValueError("count covariance is singular")
        rows[column], rows[pivot] = rows[pivot], rows[column]
        for r in range(size):
            if r != column:
                factor = rows[r][column] / rows[column][column]
                for c in range(column, size + 1):
                    rows[r][c] -= factor * rows[column][c]
    return [rows[r][size] / rows[r][r] for r in range(size)]
