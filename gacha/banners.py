"""Banners and the cards they offer: listing, status, the published odds, the seeded cards and
default banner, new banners, a user's pull history as CSV and the card art. No Flask here."""
import csv
import io
import secrets
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import Session, select

from core.db import utcnow
from core.errors import Conflict, not_found
from characters.models import Character
from characters.service import avatar_file
from gacha import ledger
from gacha.art import card_art
from gacha.collection import card_by_id, card_payload, cards_by_id
from gacha.disclosure import disclosure
from gacha.draw import Pool
from gacha.models import Banner, Card, Pull, ServerSeed
from gacha.rates import RARITIES, BannerRules

DEFAULT_PULL_COST = 100        # gems (or premium) per pull
DEFAULT_BANNER_NAME = "First Light"
RARITY_TITLES = {"N": "Everyday", "R": "Bright", "SR": "Radiant", "SSR": "Legendary"}
HISTORY_DAYS = 90             # default export window; pulls are never deleted
MAX_HISTORY_DAYS = 3650
HISTORY_COLUMNS = ("pull_id", "created_at", "banner_id", "banner_name", "card_id", "character",
                   "card_title", "rarity", "featured", "duplicate", "shards", "pity_before",
                   "transaction_id", "server_seed_id", "seed_hash", "server_seed", "client_seed",
                   "nonce")


def list_banners(session: Session) -> list[Banner]:
    return list(session.exec(select(Banner).order_by(Banner.id)))


def get_banner(session: Session, banner_id: int) -> Banner:
    """The banner, or a 404 for an unknown (or malformed) id."""
    banner = session.get(Banner, banner_id) if ledger.valid_id(banner_id) else None
    if banner is None:
        raise not_found("banner")
    return banner


def banner_rules(banner: Banner) -> BannerRules:
    return BannerRules(**banner.rules)


def banner_pool(banner: Banner) -> Pool:
    return Pool.from_mapping(banner.pool)


def banner_status(banner: Banner, now: datetime | None = None) -> str:
    now = now or utcnow()
    if now < banner.starts_at:
        return "upcoming"
    if banner.ends_at is not None and now >= banner.ends_at:
        return "ended"
    return "open"


def check_open(banner: Banner, now: datetime) -> None:
    """A 409 unless the banner is open for draws at `now`."""
    status = banner_status(banner, now)
    if status == "ended":
        raise Conflict("banner_ended", f"The banner '{banner.name}' ended at "
                                       f"{banner.ends_at.isoformat()}; draw on an open banner.")
    if status == "upcoming":
        raise Conflict("banner_not_started", f"The banner '{banner.name}' opens at "
                                             f"{banner.starts_at.isoformat()}.")


def banner_payload(banner: Banner, now: datetime | None = None) -> dict:
    return {"id": banner.id, "name": banner.name,
            "featured_character_ids": list(banner.featured_character_ids),
            "starts_at": banner.starts_at.isoformat(),
            "ends_at": banner.ends_at.isoformat() if banner.ends_at else None,
            "status": banner_status(banner, now), "pull_cost": banner.pull_cost,
            "pool_digest": banner.pool_digest, "rules": dict(banner.rules)}


def banner_disclosure(session: Session, banner_id: int) -> dict:
    """The published odds, from the same rules and pool the draw uses, with card names."""
    banner = get_banner(session, banner_id)
    published = disclosure(banner_rules(banner), banner_pool(banner))
    cards = cards_by_id(session, [int(item["card_id"]) for item in published["items"]])
    for item in published["items"]:
        item["card"] = card_payload(cards[int(item["card_id"])])
    return {"banner": banner_payload(banner), **published}


def seed_gacha(session: Session, now: datetime | None = None) -> Banner:
    """Cards in every rarity for the seeded cast and one default banner; safe to run again."""
    now = now or utcnow()
    cast = list(session.exec(select(Character).where(Character.creator_id.is_(None))
                             .order_by(Character.id)))
    ensure_cards(session, cast)
    banner = session.exec(select(Banner).where(Banner.name == DEFAULT_BANNER_NAME)).first()
    if banner is None:
        banner = create_banner(session, DEFAULT_BANNER_NAME, [c.id for c in cast[:1]],
                               [c.id for c in cast], starts_at=now)
    session.commit()
    return banner


def ensure_cards(session: Session, characters: list[Character]) -> None:
    """Make the N, R, SR and SSR cards of each character that lacks them."""
    have = {(c.character_id, c.rarity) for c in session.exec(select(Card))}
    for character in characters:
        for rarity in reversed(RARITIES):
            if (character.id, rarity) not in have:
                session.add(Card(character_id=character.id, rarity=rarity,
                                 title=f"{character.name} · {RARITY_TITLES[rarity]}"))
    session.flush()


def create_banner(session: Session, name: str, featured_character_ids: list[int],
                  character_ids: list[int], starts_at: datetime,
                  ends_at: datetime | None = None, rules: BannerRules | None = None,
                  pull_cost: int = DEFAULT_PULL_COST) -> Banner:
    """A banner over the cards of `character_ids`; featured characters' N cards are not rated up.
    The pool is frozen into the banner so every pull stays verifiable."""
    rules = rules or BannerRules()
    featured = set(featured_character_ids)
    cards = session.exec(select(Card).where(Card.character_id.in_(character_ids))
                         .order_by(Card.character_id, Card.id))
    pool: dict[str, list] = {rarity: [] for rarity in RARITIES}
    for card in cards:
        is_featured = card.character_id in featured and card.rarity != "N"
        pool[card.rarity].append({"id": str(card.id), "featured": is_featured})
    frozen = Pool.from_mapping(pool)
    banner = Banner(name=name, featured_character_ids=sorted(featured), starts_at=starts_at,
                    ends_at=ends_at, rules=asdict(rules), pool=frozen.to_mapping(),
                    pool_digest=frozen.digest(), pull_cost=pull_cost)
    banner_rules(banner)  # validates
    session.add(banner)
    session.flush()
    return banner


def history_csv(session: Session, user_id: int, days: int = HISTORY_DAYS,
                now: datetime | None = None) -> str:
    """The user's pulls of the last `days` days as CSV (server seeds only once revealed)."""
    since = (now or utcnow()) - timedelta(days=days)
    query = (select(Pull, Banner, Card, Character, ServerSeed)
             .join(Banner, Banner.id == Pull.banner_id)
             .join(Card, Card.id == Pull.card_id)
             .join(Character, Character.id == Card.character_id)
             .join(ServerSeed, ServerSeed.id == Pull.server_seed_id)
             .where(Pull.user_id == user_id, Pull.created_at >= since)
             .order_by(Pull.id))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HISTORY_COLUMNS)
    for pull, banner, card, character, seed in session.exec(query):
        writer.writerow([pull.id, pull.created_at.isoformat(), banner.id, banner.name, card.id,
                         character.name, card.title, pull.rarity, int(pull.featured),
                         int(pull.duplicate), pull.shards, pull.pity_before, pull.transaction_id,
                         seed.id, seed.seed_hash, seed.seed if seed.revealed_at else "",
                         pull.client_seed, pull.nonce])
    return out.getvalue()


def card_art_file(session: Session, card_id: int, cache_dir: Path, avatars_dir: Path) -> Path:
    """The card's picture on disk, drawn from the character's avatar the first time it is asked for."""
    card = card_by_id(session, card_id)
    path = cache_dir / f"card-{card.id}.png"
    if not path.exists():
        character = session.get(Character, card.character_id)
        avatar = avatar_file(character, avatars_dir).read_bytes()
        cache_dir.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{secrets.token_hex(4)}.tmp")
        temporary.write_bytes(card_art(avatar, card.rarity, card.title))
        temporary.replace(path)
    return path
