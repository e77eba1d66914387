"""Published odds computed from the banner rules: base and pity-consolidated rates per rarity and card."""

from __future__ import annotations

from dataclasses import asdict

from gacha.draw import Pool, check_pool
from gacha.rates import RARITIES, N, R, SR, SSR, BannerRules


def disclosure(rules: BannerRules, pool: Pool) -> dict:
    """Full JSON-ready disclosure for a banner: rarity rates, SSR pity statistics, per-card rates."""
    check_pool(rules, pool)
    base = rules.base_rates()
    consolidated = consolidated_rarity_rates(rules)
    distribution = pulls_to_ssr_distribution(rules)
    cumulative, total = [], 0.0
    for probability in distribution:
        total += probability
        cumulative.append(min(total, 1.0))
    expected = expected_pulls_to_ssr(rules)
    featured_share = featured_ssr_share_long_run(rules, pool)
    has_featured = bool(pool.featured_ids(SSR))
    has_standard = bool(pool.standard_ids(SSR))
    if has_featured and has_standard:
        expected_to_featured = expected * (2.0 - rules.featured_ssr_share)
        max_to_featured = rules.hard_pity * (1 if rules.featured_ssr_share == 1 else 2)
    elif has_featured:
        expected_to_featured, max_to_featured = expected, rules.hard_pity
    else:
        expected_to_featured, max_to_featured = None, None
    return {
        "rules": asdict(rules),
        "pool_digest": pool.digest(),
        "rarities": {
            rarity: {"base_rate": float(base[rarity]), "consolidated_rate": consolidated[rarity]}
            for rarity in RARITIES
        },
        "ssr": {
            "consolidated_rate": consolidated[SSR],
            "expected_pulls_to_ssr": expected,
            "hard_pity": rules.hard_pity,
            "rate_by_pull": ssr_rate_by_pull(rules),
            "pulls_to_ssr_probability": distribution,
            "pulls_to_ssr_cumulative": cumulative,
            "featured_share_base": _base_share(rules, pool, SSR, True) if has_featured else 0.0,
            "featured_share_long_run": featured_share,
            "featured_rate_long_run": consolidated[SSR] * featured_share,
            "expected_pulls_to_featured_ssr": expected_to_featured,
            "max_pulls_to_featured_ssr": max_to_featured,
        },
        "items": card_rates(rules, pool),
    }


def consolidated_rarity_rates(rules: BannerRules) -> dict[str, float]:
    """Long-run probability per pull of each rarity, including soft/hard pity and the guarantee.

    Exact (no simulation): after every SSR both pity counters are back at zero, so pulls split
    into independent SSR cycles and the rate of rarity k is E[pulls of k per cycle] / E[cycle
    length] (renewal-reward theorem), which equals the stationary average of the Markov chain
    over the pity states. The cycle expectations come from a forward pass over the states
    (pulls since SSR, pulls since SR-or-better) of one cycle.
    """
    occupancy = _cycle_occupancy(rules)
    counts = dict.fromkeys(RARITIES, 0.0)
    length = 0.0
    for pity_count, row in enumerate(occupancy):
        for sr_key, mass in enumerate(row):
            if mass:
                length += mass
                for rarity, probability in rules.rarity_distribution(pity_count, sr_key).items():
                    counts[rarity] += mass * probability
    return {rarity: counts[rarity] / length for rarity in RARITIES}


def ssr_rate_by_pull(rules: BannerRules) -> list[float]:
    """SSR chance of pull number 1..hard_pity after the last SSR (element 0 is pull 1)."""
    return [rules.ssr_probability(pity_count) for pity_count in range(rules.hard_pity)]


def pulls_to_ssr_distribution(rules: BannerRules) -> list[float]:
    """P(the next SSR is exactly pull n) for n = 1..hard_pity (element 0 is n = 1); sums to 1."""
    distribution = []
    survival = 1.0
    for probability in ssr_rate_by_pull(rules):
        distribution.append(survival * probability)
        survival *= 1.0 - probability
    return distribution


def expected_pulls_to_ssr(rules: BannerRules) -> float:
    """Mean number of pulls from one SSR to the next (the reciprocal of the long-run SSR rate)."""
    return sum(n * p for n, p in enumerate(pulls_to_ssr_distribution(rules), start=1))


def featured_ssr_share_long_run(rules: BannerRules, pool: Pool) -> float:
    """Long-run fraction of SSRs that are featured, including the guarantee after a lost 50/50.

    With both featured and standard SSRs the 50/50 flag is a two-state chain: from "not lost"
    the SSR is featured with probability q, from "lost" always, so the stationary featured
    share is 1 / (2 - q).
    """
    has_featured = bool(pool.featured_ids(SSR))
    has_standard = bool(pool.standard_ids(SSR))
    if has_featured and has_standard:
        return 1.0 / (2.0 - rules.featured_ssr_share)
    return 1.0 if has_featured else 0.0


def card_rates(rules: BannerRules, pool: Pool) -> list[dict]:
    """Per card: base probability per pull (no pity) and consolidated long-run probability per pull."""
    check_pool(rules, pool)
    base = rules.base_rates()
    consolidated = consolidated_rarity_rates(rules)
    items = []
    for card in pool.cards:
        group_size = len(pool.featured_ids(card.rarity) if card.featured else pool.standard_ids(card.rarity))
        base_share = _base_share(rules, pool, card.rarity, card.featured)
        if card.rarity == SSR:
            long_run = featured_ssr_share_long_run(rules, pool)
            long_run_share = long_run if card.featured else 1.0 - long_run
        else:
            long_run_share = base_share
        items.append(
            {
                "card_id": card.card_id,
                "rarity": card.rarity,
                "featured": card.featured,
                "base_probability": base[card.rarity] * base_share / group_size,
                "consolidated_probability": consolidated[card.rarity] * long_run_share / group_size,
            }
        )
    return items


def count_covariance_per_pull(rules: BannerRules) -> dict[str, dict[str, float]]:
    """Asymptotic covariance of rarity counts divided by the number of pulls.

    Over n pulls the count vector has mean ~ n * consolidated rates and covariance ~ n * this
    matrix. Pity makes pulls dependent, so this is not the multinomial ``diag(r) - r r^T``; it is
    ``E[W W^T] / E[T]`` with ``W = sum over a cycle of (one-hot rarity - r)`` and ``T`` the cycle
    length, computed by a backward pass over the pity states.
    """
    rates = consolidated_rarity_rates(rules)
    rate_vector = [rates[rarity] for rarity in RARITIES]
    steps = [[(1.0 if a == b else 0.0) - rate_vector[b] for b in range(4)] for a in range(4)]
    sr_states = rules.sr_counter_states()
    zero_vector = [0.0] * 4
    zero_matrix = [[0.0] * 4 for _ in range(4)]
    mean_next = [[zero_vector] * sr_states for _ in range(rules.hard_pity + 1)]
    second_next = [[zero_matrix] * sr_states for _ in range(rules.hard_pity + 1)]
    for pity_count in range(rules.hard_pity - 1, -1, -1):
        for sr_key in range(sr_states):
            distribution = rules.rarity_distribution(pity_count, sr_key)
            mean = [0.0] * 4
            second = [[0.0] * 4 for _ in range(4)]
            for k, rarity in enumerate(RARITIES):
                probability = distribution[rarity]
                if not probability:
                    continue
                if rarity == SSR:
                    m_next, s_next = zero_vector, zero_matrix
                else:
                    next_sr = 0 if rarity == SR or sr_states == 1 else sr_key + 1
                    m_next = mean_next[pity_count + 1][next_sr]
                    s_next = second_next[pity_count + 1][next_sr]
                z = steps[k]
                for a in range(4):
                    mean[a] += probability * (z[a] + m_next[a])
                    for b in range(4):
                        second[a][b] += probability * (
                            z[a] * z[b] + z[a] * m_next[b] + m_next[a] * z[b] + s_next[a][b]
                        )
            mean_next[pity_count][sr_key] = mean
            second_next[pity_count][sr_key] = second
    cycle_second = second_next[0][0]
    per_pull = rates[SSR]  # 1 / E[cycle length]
    return {
        RARITIES[a]: {RARITIES[b]: cycle_second[a][b] * per_pull for b in range(4)} for a in range(4)
    }


def _cycle_occupancy(rules: BannerRules) -> list[list[float]]:
    """Probability that one SSR cycle visits each state (pulls since SSR, pulls since SR+)."""
    sr_states = rules.sr_counter_states()
    occupancy = [[0.0] * sr_states for _ in range(rules.hard_pity)]
    occupancy[0][0] = 1.0
    for pity_count in range(rules.hard_pity - 1):
        for sr_key in range(sr_states):
            mass = occupancy[pity_count][sr_key]
            if not mass:
                continue
            distribution = rules.rarity_distribution(pity_count, sr_key)
            occupancy[pity_count + 1][0] += mass * distribution[SR]
            next_sr = 0 if sr_states == 1 else sr_key + 1
            low = distribution[R] + distribution[N]
            if low:
                occupancy[pity_count + 1][next_sr] += mass * low
    return occupancy


def _base_share(rules: BannerRules, pool: Pool, rarity: str, featured: bool) -> float:
    """Share of a rarity's pulls that go to its featured (or standard) group, before any guarantee."""
    has_featured = bool(pool.featured_ids(rarity))
    has_standard = bool(pool.standard_ids(rarity))
    if has_featured and has_standard:
        share = rules.featured_share(rarity)
        return share if featured else 1.0 - share
    return 1.0
