"""Which domain events the log keeps, under which name, with which properties. This table is the
schema docs/analytics.md describes; a new domain event is logged by adding one line here.

Left out on purpose: PromptBuilt (an internal step, the whole prompt), AffinityRecorded (ledger
rows; LevelChanged is the analytic fact) and CharacterChanged (every card edit)."""
from dataclasses import dataclass
from typing import Any, Optional

from core.event_types import (CardsDrawn, ChapterFinished, CharacterCreated, CharacterPublished,
                              CommentAdded, ContentFlagged, ConversationStarted, LevelChanged,
                              MessageSent, PostLiked, PostPublished, ReplyFinished,
                              RoomMemberJoined, SessionStarted, SwipeMade, UserSignedUp)
from core.event_types import CreatorRewardPaid, MembershipGranted
from core.event_types import (CommunityEventJudged, CommunityEventPrizePaid,
                              CommunityEventStarted)
from core.event_types import ContentPurchased, PurchaseRefunded


@dataclass(frozen=True)
class EventSpec:
    name: str
    event_type: type
    user_field: Optional[str]  # the payload field naming whose event it is (None: nobody's)
    properties: tuple[str, ...]  # the payload fields kept, in the row's `properties`

    def user_id(self, event: Any) -> Optional[int]:
        return getattr(event, self.user_field) if self.user_field else None

    def properties_of(self, event: Any) -> dict[str, Any]:
        return {field: _jsonable(getattr(event, field)) for field in self.properties}


EVENTS = (
    EventSpec("user_signed_up", UserSignedUp, "user_id", ()),
    EventSpec("session_started", SessionStarted, "user_id", ("remember",)),
    EventSpec("conversation_started", ConversationStarted, "user_id",
              ("conversation_id", "character_id", "source")),
    EventSpec("message_sent", MessageSent, "user_id",
              ("conversation_id", "message_id", "character_id", "chars")),
    EventSpec("reply_finished", ReplyFinished, "user_id",
              ("conversation_id", "reply_id", "character_id", "finish_reason", "status", "tokens",
               "stop_reason")),
    EventSpec("character_created", CharacterCreated, "creator_id", ("character_id", "source")),
    EventSpec("character_published", CharacterPublished, None,
              ("character_id", "visibility", "version")),
    EventSpec("swipe_made", SwipeMade, "user_id", ("character_id", "direction")),
    EventSpec("level_changed", LevelChanged, "user_id",
              ("character_id", "level_before", "level_after", "affinity")),
    EventSpec("cards_drawn", CardsDrawn, "user_id",
              ("banner_id", "pull_ids", "rarities", "currency", "cost")),
    EventSpec("chapter_finished", ChapterFinished, "user_id",
              ("character_id", "story_id", "chapter", "conversation_id", "story_finished")),
    EventSpec("content_flagged", ContentFlagged, "user_id",
              ("surface", "target_type", "target_id", "action", "category", "stage", "rule")),
    # The community (issue 15). A post or comment a character wrote has no user.
    EventSpec("post_published", PostPublished, "author_id",
              ("post_id", "author_character_id", "character_id", "kind")),
    EventSpec("comment_added", CommentAdded, "author_id",
              ("comment_id", "post_id", "author_character_id", "parent_id")),
    EventSpec("post_liked", PostLiked, "user_id", ("post_id",)),
    EventSpec("room_joined", RoomMemberJoined, "user_id", ("room_id", "via")),
    # Memberships and creator rewards (issue 17): what a reward run is audited from.
    EventSpec("membership_granted", MembershipGranted, "user_id",
              ("tier", "days", "source", "granted_at", "expires_at")),
    EventSpec("creator_reward_paid", CreatorRewardPaid, "creator_id",
              ("month", "gems", "user_days", "characters", "transaction_id")),
    # Community events (docs/events.md).
    EventSpec("event_started", CommunityEventStarted, None,
              ("event_id", "name", "starts_at", "ends_at", "contest", "banner_id", "post_id")),
    EventSpec("event_judged", CommunityEventJudged, None,
              ("event_id", "entries", "winner_character_ids", "scores")),
    EventSpec("event_prize_paid", CommunityEventPrizePaid, "user_id",
              ("event_id", "character_id", "place", "gems", "transaction_id")),
    # Paid content (issue 17, docs/billing.md).
    EventSpec("content_purchased", ContentPurchased, "buyer_id",
              ("purchase_id", "creator_id", "character_id", "kind", "item_id", "gems",
               "creator_gems")),
    EventSpec("purchase_refunded", PurchaseRefunded, "buyer_id",
              ("purchase_id", "creator_id", "character_id", "kind", "item_id", "gems",
               "creator_clawback", "moderator_id")),
)
NAMES = tuple(spec.name for spec in EVENTS)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return [_jsonable(item) for item in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)
