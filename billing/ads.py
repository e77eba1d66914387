"""House ads: the operator's own notices (a Plus offer, an event, a rules reminder), off unless
HOUSE_ADS_ENABLED. Never shown to a plus member (their tier's `ads` entitlement is false), to an
account that is or may be under 18 (core.users.is_adult: no birth year counts as under 18), or
to someone not signed in (their age is unknown).

`house_ad(session, user, ads, tiers, today)` -> one ad dict or None; a user sees the same ad all
day and the next one the day after (the list's order, offset by the user's id)."""
from datetime import date
from typing import Mapping, Optional, Sequence

from sqlmodel import Session

from billing.entitlements import entitlements_for
from core.errors import KindredError
from core.users import User, is_adult

AD_FIELDS = {"id", "title", "text", "url"}
MAX_TITLE, MAX_TEXT = 80, 280


def house_ad_for(session: Session, user, settings: Mapping, today: date) -> Optional[dict]:
    """house_ad with the app's settings (HOUSE_ADS_ENABLED, HOUSE_ADS, MEMBERSHIP_TIERS)."""
    return house_ad(session, user, settings["HOUSE_ADS"], settings["MEMBERSHIP_TIERS"], today,
                    settings["HOUSE_ADS_ENABLED"])


def house_ad(session: Session, user, ads: Sequence[Mapping], tiers: Mapping[str, Mapping],
             today: date, enabled: bool = True) -> Optional[dict]:
    user_id = getattr(user, "id", None)
    if not enabled or not ads or not user_id:
        return None
    if not is_adult(session.get(User, user_id)) or not entitlements_for(session, user_id,
                                                                         tiers).ads:
        return None
    ad = ads[(today.toordinal() + user_id) % len(ads)]
    return {"id": str(ad["id"]), "title": ad["title"], "text": ad.get("text", ""),
            "url": ad.get("url"), "label": "From this community"}


def check_ads(ads) -> list[dict]:
    """The HOUSE_ADS setting, checked once at start: a list of {id, title, text?, url?}; a
    `url` is a path on this site (a house ad never sends people elsewhere)."""
    if not isinstance(ads, list):
        raise KindredError("bad_house_ads", "HOUSE_ADS must be a JSON list of ads.")
    for ad in ads:
        if not isinstance(ad, dict) or set(ad) - AD_FIELDS or not ad.get("id") \
                or not isinstance(ad.get("title"), str) or not ad["title"].strip() \
                or len(ad["title"]) > MAX_TITLE or len(str(ad.get("text", ""))) > MAX_TEXT:
            raise KindredError("bad_house_ads", "Each house ad is {id, title (1-80 characters), "
                                                "text? (up to 280), url?}.")
        url = ad.get("url")
        if url is not None and (not isinstance(url, str) or not url.startswith("/")
                                or url.startswith("//")):
            raise KindredError("bad_house_ads", f"House ad {ad['id']!r}: url must be a path on "
                                                "this site, like /gacha.")
    return ads
