"""Deterministic, verifiable draws from fair rolls, banner rules and a card pool."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

from gacha.fairness import ROLL_SCALE, pick_index, roll_int, seed_matches_hash
from gacha.rates import N, R, RARITIES, SR, SSR, TEN_PULL_WINDOW, BannerRules, rarity_thresholds

PULL_COUNTS = (1, 10)


@dataclass(frozen=True)
class Card:
    """One card of a banner pool."""

    card_id: str
    rarity: str
    featured: bool = False


@dataclass(frozen=True)
class Pool:
    """The cards of a banner; order matters because the card roll indexes into it."""

    cards: tuple[Card, ...]
    _groups: dict = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "cards", tuple(self.cards))
        seen: set[str] = set()
        featured: dict[str, list[str]] = {rarity: [] for rarity in RARITIES}
        standard: dict[str, list[str]] = {rarity: [] for rarity in RARITIES}
        for card in self.cards:
            if not isinstance(card, Card):
                raise ValueError(f"pool entries must be Card, got {card!r}")
            if not isinstance(card.card_id, str) or not card.card_id:
                raise ValueError(f"card_id must be a non-empty string, got {card.card_id!r}")
            if card.card_id in seen:
                raise ValueError(f"duplicate card_id {card.card_id!r}")
            seen.add(card.card_id)
            if card.rarity not in RARITIES:
                raise ValueError(f"card {card.card_id!r} has unknown rarity {card.rarity!r}")
            if not isinstance(card.featured, bool):
                raise ValueError(f"card {card.card_id!r} featured flag must be a bool")
            if card.featured and card.rarity == N:
                raise ValueError(f"card {card.card_id!r}: N cards cannot be featured (no N rate-up)")
            (featured if card.featured else standard)[card.rarity].append(card.card_id)
        groups = {rarity: (tuple(featured[rarity]), tuple(standard[rarity])) for rarity in RARITIES}
        object.__setattr__(self, "_groups", groups)

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Iterable[str | Mapping]]) -> Pool:
        """Build from ``{"SSR": [{"id": "aria", "featured": True}, "bo", ...], "SR": [...], ...}``."""
        cards = []
        for rarity, entries in mapping.items():
            for entry in entries:
                if isinstance(entry, str):
                    cards.append(Card(entry, rarity))
                elif isinstance(entry, Mapping) and "id" in entry:
                    cards.append(Card(entry["id"], rarity, entry.get("featured", False)))
                else:
                    raise ValueError(f"pool entry must be an id or a mapping with 'id', got {entry!r}")
        return cls(tuple(cards))

    def to_mapping(self) -> dict[str, list[dict]]:
        """Plain JSON-ready form, the inverse of ``from_mapping``."""
        mapping: dict[str, list[dict]] = {rarity: [] for rarity in RARITIES}
        for card in self.cards:
            mapping[card.rarity].append({"id": card.card_id, "featured": card.featured})
        return mapping

    def digest(self) -> str:
        """SHA-256 of the canonical JSON of the pool, to publish next to the seed hash."""
        canonical = json.dumps(self.to_mapping(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def featured_ids(self, rarity: str) -> tuple[str, ...]:
        """Featured card ids of a rarity, in pool order."""
        return self._groups[rarity][0]

    def standard_ids(self, rarity: str) -> tuple[str, ...]:
        """Non-featured card ids of a rarity, in pool order."""
        return self._groups[rarity][1]


@dataclass(frozen=True, slots=True)
class PityState:
    """A player's pity on one banner: pulls since the last SSR / SR-or-better, lost 50/50 flag."""

    pulls_since_ssr: int = 0
    pulls_since_sr: int = 0
    lost_5050: bool = False

    def __post_init__(self) -> None:
        for name in ("pulls_since_ssr", "pulls_since_sr"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be an int >= 0, got {value!r}")
        if not isinstance(self.lost_5050, bool):
            raise ValueError(f"lost_5050 must be a bool, got {self.lost_5050!r}")


@dataclass(frozen=True, slots=True)
class PullResult:
    """Outcome of one pull plus everything needed to recompute it from the revealed seed.

    ``was_5050_won`` is None unless an SSR 50/50 was actually rolled; ``featured_roll`` is None
    when no featured/standard roll was needed.
    """

    nonce: int
    card_id: str
    rarity: str
    featured: bool
    was_5050_won: bool | None
    guaranteed_featured: bool
    pity_before: int
    pulls_since_sr_before: int
    lost_5050_before: bool
    rarity_roll: float
    featured_roll: float | None
    card_roll: float

    @property
    def state_before(self) -> PityState:
        """The pity state this pull was drawn from."""
        return PityState(self.pity_before, self.pulls_since_sr_before, self.lost_5050_before)

    def to_dict(self) -> dict:
        """Plain JSON-ready form."""
        return asdict(self)


def draw_one(
    rules: BannerRules,
    pool: Pool,
    state: PityState,
    server_seed: str,
    client_seed: str,
    nonce: int,
) -> tuple[PullResult, PityState]:
    """Draw one card; returns the result and the pity state after it.

    The pull with nonce ``k`` uses these rolls (``gacha.fairness.roll``):

    1. ``roll(server_seed, client_seed, k)`` picks the rarity: the first of SSR, SR, R, N whose
       cumulative probability from ``BannerRules.rarity_distribution`` (summed in that order in
       IEEE-754 doubles, skipping zero probabilities) is greater than the roll; if rounding leaves
       the roll above the last sum, the last rarity with positive probability is used.
    2. ``roll(..., k, sub_index=1)`` is used only when the rarity has both featured and standard
       cards and the pull is not a guaranteed featured SSR: featured if the roll is below the
       rarity's featured share. For SSR this is the 50/50; losing it guarantees the next SSR.
    3. ``roll(..., k, sub_index=2)`` picks the card: index ``floor(roll * len(group))``, computed
       exactly, into the chosen group (featured or standard cards of the rarity, in pool order).
    """
    check_pool(rules, pool)
    return _draw(rules, pool, rarity_thresholds(rules), _featured_shares(rules), state, server_seed, client_seed, nonce)


def draw_many(
    rules: BannerRules,
    pool: Pool,
    state: PityState,
    server_seed: str,
    client_seed: str,
    first_nonce: int,
    count: int = 10,
) -> tuple[list[PullResult], PityState]:
    """Draw ``count`` (1 or 10) cards with nonces ``first_nonce .. first_nonce + count - 1``.

    Each pull is exactly ``draw_one`` chained on the previous pull's state.
    """
    if count not in PULL_COUNTS:
        raise ValueError(f"count must be one of {PULL_COUNTS}, got {count!r}")
    if isinstance(first_nonce, bool) or not isinstance(first_nonce, int) or first_nonce < 0:
        raise ValueError(f"first_nonce must be an int >= 0, got {first_nonce!r}")
    check_pool(rules, pool)
    table = rarity_thresholds(rules)
    shares = _featured_shares(rules)
    results = []
    for nonce in range(first_nonce, first_nonce + count):
        result, state = _draw(rules, pool, table, shares, state, server_seed, client_seed, nonce)
        results.append(result)
    return results, state


def verify(
    rules: BannerRules,
    pool: Pool,
    result: PullResult,
    server_seed: str,
    client_seed: str,
    published_seed_hash: str | None = None,
) -> bool:
    """Recompute one pull from the revealed seed and its recorded pre-pull state; True if identical.

    With ``published_seed_hash`` the revealed seed must also match the commitment.
    """
    if published_seed_hash is not None and not seed_matches_hash(server_seed, published_seed_hash):
        return False
    check_pool(rules, pool)
    try:
        state = result.state_before
        _check_state(rules, state)
    except ValueError:
        return False
    recomputed, _ = _draw(
        rules, pool, rarity_thresholds(rules), _featured_shares(rules), state, server_seed, client_seed, result.nonce
    )
    return recomputed == result


def verify_history(
    rules: BannerRules,
    pool: Pool,
    initial_state: PityState,
    results: Sequence[PullResult],
    server_seed: str,
    client_seed: str,
    published_seed_hash: str | None = None,
) -> bool:
    """Replay a player's pulls under one server seed: each recomputes and chains from the previous.

    Nonces must strictly increase (a reused nonce would reuse a roll).
    """
    if published_seed_hash is not None and not seed_matches_hash(server_seed, published_seed_hash):
        return False
    check_pool(rules, pool)
    table = rarity_thresholds(rules)
    shares = _featured_shares(rules)
    state = initial_state
    previous_nonce = -1
    for result in results:
        if result.nonce <= previous_nonce or result.state_before != state:
            return False
        try:
            _check_state(rules, state)
        except ValueError:
            return False
        recomputed, state = _draw(rules, pool, table, shares, state, server_seed, client_seed, result.nonce)
        if recomputed != result:
            return False
        previous_nonce = result.nonce
    return True


def check_pool(rules: BannerRules, pool: Pool) -> None:
    """Raise ValueError unless every rarity the rules can produce has at least one card."""
    if not isinstance(pool, Pool):
        raise ValueError(f"pool must be a Pool (see Pool.from_mapping), got {type(pool).__name__}")
    needed = {SSR: True, SR: rules.sr_rate > 0, R: rules.r_rate > 0, N: rules.n_rate > 0}
    for rarity, is_needed in needed.items():
        if is_needed and not (pool.featured_ids(rarity) or pool.standard_ids(rarity)):
            raise ValueError(f"pool has no {rarity} card but the rules can draw {rarity}")


def _draw(
    rules: BannerRules,
    pool: Pool,
    table,
    shares: dict[str, float],
    state: PityState,
    server_seed: str,
    client_seed: str,
    nonce: int,
) -> tuple[PullResult, PityState]:
    _check_state(rules, state)
    pity = state.pulls_since_ssr
    sr_count = state.pulls_since_sr
    entries = table[pity][sr_count if rules.ten_pull_guarantee else 0]

    rarity_roll = roll_int(server_seed, client_seed, nonce) / ROLL_SCALE
    rarity = entries[-1][0]
    for name, cumulative in entries:
        if rarity_roll < cumulative:
            rarity = name
            break

    featured_ids, standard_ids = pool._groups[rarity]
    lost_5050 = state.lost_5050
    featured_roll = None
    was_5050_won = None
    guaranteed_featured = False
    if featured_ids and standard_ids:
        if rarity == SSR and lost_5050:
            guaranteed_featured = True
            featured = True
        else:
            featured_roll = roll_int(server_seed, client_seed, nonce, 1) / ROLL_SCALE
            featured = featured_roll < shares[rarity]
            if rarity == SSR:
                was_5050_won = featured
    else:
        featured = bool(featured_ids)
    if rarity == SSR:
        # Only a lost 50/50 arms the guarantee; an SSR from a standard-only pool leaves it as it was.
        lost_5050 = False if featured else (was_5050_won is False or lost_5050)

    group = featured_ids if featured else standard_ids
    card_value = roll_int(server_seed, client_seed, nonce, 2)
    card_id = group[pick_index(card_value, len(group))]

    result = PullResult(
        nonce=nonce,
        card_id=card_id,
        rarity=rarity,
        featured=featured,
        was_5050_won=was_5050_won,
        guaranteed_featured=guaranteed_featured,
        pity_before=pity,
        pulls_since_sr_before=sr_count,
        lost_5050_before=state.lost_5050,
        rarity_roll=rarity_roll,
        featured_roll=featured_roll,
        card_roll=card_value / ROLL_SCALE,
    )
    if rarity == SSR:
        new_state = PityState(0, 0, lost_5050)
    elif rarity == SR:
        new_state = PityState(pity + 1, 0, lost_5050)
    else:
        new_state = PityState(pity + 1, sr_count + 1, lost_5050)
    return result, new_state


def _check_state(rules: BannerRules, state: PityState) -> None:
    if not isinstance(state, PityState):
        raise ValueError(f"state must be a PityState, got {type(state).__name__}")
    if state.pulls_since_ssr >= rules.hard_pity:
        raise ValueError(f"pulls_since_ssr {state.pulls_since_ssr} is impossible with hard pity {rules.hard_pity}")
    if rules.ten_pull_guarantee and state.pulls_since_sr >= TEN_PULL_WINDOW:
        raise ValueError(
            f"pulls_since_sr {state.pulls_since_sr} is impossible with the ten-pull guarantee"
        )


def _featured_shares(rules: BannerRules) -> dict[str, float]:
    return {rarity: rules.featured_share(rarity) for rarity in RARITIES}
