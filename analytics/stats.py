"""The statistics the dashboards show: percentiles, and 95% confidence intervals for a
proportion (Wilson), a difference of two proportions (Newcombe's hybrid score interval, built
from the two Wilson intervals), a mean and a difference of two means (normal approximation).
Plain Python: the inputs are per-user or per-session counts, already reduced by SQL."""
import math
from statistics import NormalDist
from typing import Optional, Sequence

Z95 = NormalDist().inv_cdf(0.975)  # 1.959963...


def percentile(values: Sequence[float], q: float) -> Optional[float]:
    """The q-th percentile (0-100) by linear interpolation between the closest ranks (numpy's
    default): the median of [1, 2, 3, 10] is 2.5, its p90 7.9. None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def wilson(successes: int, trials: int, z: float = Z95) -> Optional[tuple[float, float]]:
    """The Wilson score interval of successes / trials (None for no trials)."""
    if trials == 0:
        return None
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def proportion(successes: int, trials: int) -> dict:
    """{users, retained, rate, ci} for one group (rate and ci None without users)."""
    interval = wilson(successes, trials)
    return {"users": trials, "retained": successes,
            "rate": successes / trials if trials else None,
            "ci": list(interval) if interval else None}


def difference_of_proportions(k1: int, n1: int, k2: int, n2: int,
                              z: float = Z95) -> Optional[dict]:
    """p1 - p2 with Newcombe's hybrid score interval (his method 10): unlike the Wald interval
    it stays within [-1, 1] and keeps its coverage for small groups and rates near 0 or 1."""
    if n1 == 0 or n2 == 0:
        return None
    p1, p2 = k1 / n1, k2 / n2
    (l1, u1), (l2, u2) = wilson(k1, n1, z), wilson(k2, n2, z)
    d = p1 - p2
    return {"value": d, "ci": [d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
                               d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)]}


def mean(values: Sequence[float], z: float = Z95) -> dict:
    """{users, mean, ci}: the normal-approximation interval mean +- z * s / sqrt(n), s the sample
    standard deviation (None with fewer than two values)."""
    n = len(values)
    if n == 0:
        return {"users": 0, "mean": None, "ci": None}
    average = sum(values) / n
    if n < 2:
        return {"users": n, "mean": average, "ci": None}
    half = z * math.sqrt(_variance(values, average) / n)
    return {"users": n, "mean": average, "ci": [average - half, average + half]}


def difference_of_means(a: Sequence[float], b: Sequence[float], z: float = Z95) -> Optional[dict]:
    """mean(a) - mean(b) with Welch's standard error and the normal quantile."""
    if len(a) < 2 or len(b) < 2:
        return None
    mean_a, mean_b = sum(a) / len(a), sum(b) / len(b)
    se = math.sqrt(_variance(a, mean_a) / len(a) + _variance(b, mean_b) / len(b))
    d = mean_a - mean_b
    return {"value": d, "ci": [d - z * se, d + z * se]}


def _variance(values: Sequence[float], average: float) -> float:
    return sum((v - average) ** 2 for v in values) / (len(values) - 1)
