"""Banner rules: base rarity rates, soft/hard pity, ten-pull guarantee and featured rate-up."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

SSR = "SSR"
SR = "SR"
R = "R"
N = "N"
# Highest first: this is also the order in which a roll is matched against cumulative probabilities.
RARITIES = (SSR, SR, R, N)
TEN_PULL_WINDOW = 10


@dataclass(frozen=True)
class BannerRules:
    """Rules of one banner.

    Pity counters are "pulls since the last SSR" (``pity_count``, 0-based) and "pulls since the
    last SR-or-better". Pull number ``n`` after an SSR has ``pity_count == n - 1``.

    - Below ``soft_pity_start`` the SSR chance is ``ssr_rate``; from pull number
      ``soft_pity_start`` on it is ``ssr_rate + soft_pity_step * (n - soft_pity_start + 1)``
      (capped at 1); pull number ``hard_pity`` is always SSR.
    - The non-SSR rarities share the remaining probability in proportion to their base rates.
    - ``ten_pull_guarantee``: a pull that follows 9 pulls in a row without SR-or-better is
      SR-or-better (the SSR chance is unchanged, SR takes the rest), so every 10 consecutive
      pulls, and therefore every 10-pull, contain at least one SR or SSR.
    - SSR: ``featured_ssr_share`` of SSRs are featured (the 50/50); after a lost 50/50 the next
      SSR is featured for sure. SR and R: ``featured_sr_share`` / ``featured_r_share`` of pulls
      of that rarity go to the banner's featured cards of that rarity (no guarantee).
    """

    ssr_rate: float = 0.015
    sr_rate: float = 0.10
    r_rate: float = 0.35
    n_rate: float = 0.535
    soft_pity_start: int = 74
    soft_pity_step: float = 0.06
    hard_pity: int = 90
    ten_pull_guarantee: bool = True
    featured_ssr_share: float = 0.5
    featured_sr_share: float = 0.5
    featured_r_share: float = 0.5

    def __post_init__(self) -> None:
        rates = self.base_rates()
        for rarity, rate in rates.items():
            if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not math.isfinite(rate):
                raise ValueError(f"{rarity} rate must be a finite number, got {rate!r}")
            if rate < 0:
                raise ValueError(f"{rarity} rate must be >= 0, got {rate!r}")
        total = math.fsum(rates.values())
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"base rates must sum to 1, got {total!r}")
        for name in ("soft_pity_start", "hard_pity"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{name} must be an int, got {value!r}")
        if self.soft_pity_start < 1:
            raise ValueError(f"soft_pity_start must be >= 1, got {self.soft_pity_start}")
        if self.soft_pity_start >= self.hard_pity:
            raise ValueError(
                f"soft_pity_start ({self.soft_pity_start}) must be < hard_pity ({self.hard_pity})"
            )
        step = self.soft_pity_step
        if isinstance(step, bool) or not isinstance(step, (int, float)) or not math.isfinite(step) or step < 0:
            raise ValueError(f"soft_pity_step must be a finite number >= 0, got {step!r}")
        if not isinstance(self.ten_pull_guarantee, bool):
            raise ValueError(f"ten_pull_guarantee must be a bool, got {self.ten_pull_guarantee!r}")
        if self.ten_pull_guarantee and self.sr_rate <= 0:
            raise ValueError("ten_pull_guarantee requires sr_rate > 0")
        for name in ("featured_ssr_share", "featured_sr_share", "featured_r_share"):
            share = getattr(self, name)
            if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 <= share <= 1:
                raise ValueError(f"{name} must be a number in [0, 1], got {share!r}")

    def base_rates(self) -> dict[str, float]:
        """Base probability of each rarity, highest rarity first, ignoring pity."""
        return {SSR: self.ssr_rate, SR: self.sr_rate, R: self.r_rate, N: self.n_rate}

    def ssr_probability(self, pity_count: int) -> float:
        """SSR chance of the next pull when ``pity_count`` pulls were made since the last SSR."""
        self._check_pity(pity_count)
        pull_number = pity_count + 1
        if pull_number >= self.hard_pity:
            return 1.0
        rise = pull_number - self.soft_pity_start + 1
        if rise <= 0:
            return float(self.ssr_rate)
        return min(1.0, self.ssr_rate + self.soft_pity_step * rise)

    def rarity_distribution(self, pity_count: int, pulls_in_ten_without_sr: int) -> dict[str, float]:
        """Probability of each rarity for the next pull, given both pity counters.

        ``pulls_in_ten_without_sr`` is the number of pulls since the last SR-or-better.
        """
        if isinstance(pulls_in_ten_without_sr, bool) or not isinstance(pulls_in_ten_without_sr, int):
            raise ValueError(f"pulls_in_ten_without_sr must be an int, got {pulls_in_ten_without_sr!r}")
        if pulls_in_ten_without_sr < 0:
            raise ValueError(f"pulls_in_ten_without_sr must be >= 0, got {pulls_in_ten_without_sr}")
        if self.ten_pull_guarantee and pulls_in_ten_without_sr >= TEN_PULL_WINDOW:
            raise ValueError(
                f"pulls_in_ten_without_sr must be < {TEN_PULL_WINDOW} under the ten-pull guarantee, "
                f"got {pulls_in_ten_without_sr}"
            )
        p_ssr = self.ssr_probability(pity_count)
        if self.ten_pull_guarantee and pulls_in_ten_without_sr == TEN_PULL_WINDOW - 1:
            return {SSR: p_ssr, SR: 1.0 - p_ssr, R: 0.0, N: 0.0}
        non_ssr_total = self.sr_rate + self.r_rate + self.n_rate
        scale = (1.0 - p_ssr) / non_ssr_total if non_ssr_total > 0 else 0.0
        return {SSR: p_ssr, SR: self.sr_rate * scale, R: self.r_rate * scale, N: self.n_rate * scale}

    def featured_share(self, rarity: str) -> float:
        """Share of pulls of ``rarity`` that go to featured cards when the pool has both kinds."""
        shares = {SSR: self.featured_ssr_share, SR: self.featured_sr_share, R: self.featured_r_share, N: 0.0}
        if rarity not in shares:
            raise ValueError(f"unknown rarity {rarity!r}; expected one of {RARITIES}")
        return float(shares[rarity])

    def sr_counter_states(self) -> int:
        """How many values of the SR counter change the odds (1 when there is no guarantee)."""
        return TEN_PULL_WINDOW if self.ten_pull_guarantee else 1

    def _check_pity(self, pity_count: int) -> None:
        if isinstance(pity_count, bool) or not isinstance(pity_count, int):
            raise ValueError(f"pity_count must be an int, got {pity_count!r}")
        if not 0 <= pity_count < self.hard_pity:
            raise ValueError(f"pity_count must be in [0, {self.hard_pity - 1}], got {pity_count}")


def rarity_thresholds(rules: BannerRules) -> tuple[tuple[tuple[tuple[str, float], ...], ...], ...]:
    """Cumulative rarity thresholds ``table[pity_count][sr_key]`` derived from ``rarity_distribution``.

    ``sr_key`` is the SR counter, or 0 when the banner has no ten-pull guarantee. Each entry lists
    ``(rarity, cumulative probability)`` for rarities with positive probability, summed in
    ``RARITIES`` order in IEEE-754 double precision.
    """
    return _rarity_thresholds(rules)


@lru_cache(maxsize=64)
def _rarity_thresholds(rules: BannerRules) -> tuple[tuple[tuple[tuple[str, float], ...], ...], ...]:
    table = []
    for pity_count in range(rules.hard_pity):
        row = []
        for sr_key in range(rules.sr_counter_states()):
            distribution = rules.rarity_distribution(pity_count, sr_key)
            cumulative = 0.0
            entries = []
            for rarity in RARITIES:
                probability = distribution[rarity]
                if probability > 0:
                    cumulative += probability
                    entries.append((rarity, cumulative))
            row.append(tuple(entries))
        table.append(tuple(row))
    return tuple(table)
