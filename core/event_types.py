"""Every domain event and its payload. Producers record them with `core.events.record`; the app
factory subscribes the domains that react. docs/architecture.md lists them with their producers
and subscribers."""
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Optional


@dataclass(frozen=True)
class UserSignedUp:
    user_id: int
    username: str


@dataclass(frozen=True)
class SessionStarted:
    """A log-in (sign-up logs in too)."""
    user_id: int
    remember: bool


@dataclass(frozen=True)
class ConversationStarted:
    conversation_id: int
    user_id: int
    character_id: int
    source: str = "chat"  # chat | discovery | story


@dataclass(frozen=True)
class MessageSent:
    """A user's chat message, stored (an edit of a user message is a new one)."""
    conversation_id: int
    message_id: int
    user_id: int
    character_id: int
    chars: int


@dataclass(frozen=True)
class PromptBuilt:
    """A reply's prompt, built and handed to the engine (the prompt inspector records it)."""
    reply_id: int
    character_id: int
    prompt: Any  # conversations.prompt.Prompt


@dataclass(frozen=True)
class ReplyFinished:
    conversation_id: int
    reply_id: int
    user_id: int
    character_id: int
    finish_reason: str  # stop | length | cancelled | error (the engine's)
    status: str  # the stored message status: complete | stopped | error
    tokens: int
    stop_reason: Optional[str] = None  # user | disconnect | shutdown, when stopped


@dataclass(frozen=True)
class CharacterCreated:
    character_id: int
    creator_id: Optional[int]
    source: str  # draft | import


@dataclass(frozen=True)
class CharacterChanged:
    """Card fields, avatar or visibility changed (publish and restore included)."""
    character_id: int
    visibility: str
    changed: tuple[str, ...]  # of "card", "avatar", "visibility"


@dataclass(frozen=True)
class CharacterPublished:
    character_id: int
    visibility: str  # public | unlisted
    version: int


@dataclass(frozen=True)
class SwipeMade:
    user_id: int
    character_id: int
    direction: str  # left | right | up


@dataclass(frozen=True)
class AffinityRecorded:
    """Affinity ledger rows of one award; the gacha pays gems for the kinds it rewards. A retry
    of an award sends the rows of the first attempt again (`retry`), so a failed payment is
    made up, never doubled."""
    user_id: int
    character_id: int
    # (affinity event id, kind, ref, UTC day) of each row
    entries: tuple[tuple[int, str, str, str], ...]
    occurred_at: datetime
    retry: bool = False


@dataclass(frozen=True)
class LevelChanged:
    user_id: int
    character_id: int
    level_before: int
    level_after: int
    affinity: int


@dataclass(frozen=True)
class CardsDrawn:
    user_id: int
    banner_id: int
    pull_ids: tuple[int, ...]
    rarities: tuple[str, ...]
    currency: str
    cost: int


@dataclass(frozen=True)
class ChapterFinished:
    user_id: int
    character_id: int
    story_id: int
    chapter: str
    conversation_id: Optional[int] = None
    story_finished: bool = False


@dataclass(frozen=True)
class RoomMemberJoined:
    """Someone joined a room: through an invite (`via` "invite") or a listed room ("listed")."""
    room_id: int
    user_id: int
    via: str


@dataclass(frozen=True)
class RoomMemberRemoved:
    """A person left a room or its owner kicked them (`kicked`); their sockets leave the room."""
    room_id: int
    user_id: int
    by_id: int
    kicked: bool


@dataclass(frozen=True)
class ContentFlagged:
    """The safety pipeline decided against something stored: it was blocked, masked, age-gated
    or held for review, or it needed support (self-harm). Recorded by the check point that
    stored it, so moderators can find it by `target_type` and `target_id`."""
    surface: str  # chat_message | chat_reply | character | username | profile | post | ...
    target_type: str  # message | character | user | post | comment | room_message
    target_id: int
    user_id: Optional[int]  # whose content it is (a reply's: the conversation's user)
    action: str  # block | mask | age_gate | hold | support
    category: Optional[str]  # the category that decided the action
    scores: Any  # {category: score in 0..1}
    stage: str  # rules | classifier | judge
    rule: Optional[str] = None  # the community rule cited, e.g. "R2"


@dataclass(frozen=True)
class PostPublished:
    """A community post stored as published, so readers can see it (a held one is not recorded).
    `author_id` is None when a character wrote it."""
    post_id: int
    author_id: Optional[int]
    author_character_id: Optional[int]
    character_id: Optional[int]
    kind: str


@dataclass(frozen=True)
class CommentAdded:
    """A published comment on a post; `parent_id` is the comment it replies to. `welcome`: a
    character's welcome of a newcomer's first post (they are notified `welcome`, not `reply`)."""
    comment_id: int
    post_id: int
    author_id: Optional[int]
    author_character_id: Optional[int]
    parent_id: Optional[int] = None
    welcome: bool = False


@dataclass(frozen=True)
class PostLiked:
    """A like that was not there before (liking twice records nothing)."""
    post_id: int
    user_id: int


@dataclass(frozen=True)
class CreatorFollowed:
    """A new follow of a creator (following again while following records nothing)."""
    follower_id: int
    creator_id: int


ALL_EVENTS = (UserSignedUp, SessionStarted, ConversationStarted, MessageSent, PromptBuilt,
              ReplyFinished, CharacterCreated, CharacterChanged, CharacterPublished, SwipeMade,
              AffinityRecorded, LevelChanged, CardsDrawn, ChapterFinished, ContentFlagged,
              PostPublished, CommentAdded, PostLiked, CreatorFollowed, RoomMemberJoined,
              RoomMemberRemoved)



@dataclass(frozen=True)
class MembershipGranted:
    """A paid tier granted (a webhook, Stripe, a redeem code), never for a replayed key. The
    user is on `tier` from `granted_at` to `expires_at` (ISO 8601, UTC): creator rewards count
    a user as paying on a UTC day this interval touches (docs/billing.md)."""
    user_id: int
    tier: str
    days: int
    source: str
    granted_at: str
    expires_at: str


@dataclass(frozen=True)
class CreatorRewardPaid:
    """One month's creator reward, paid once per (month, creator) by `rewards run`: `gems` for
    `user_days` retained user-days, `characters` the [character_id, user_days] of each counted
    character (docs/billing.md, "Creator rewards")."""
    creator_id: int
    month: str
    gems: int
    user_days: int
    characters: tuple
    transaction_id: int


ALL_EVENTS = ALL_EVENTS + (MembershipGranted, CreatorRewardPaid)


# Community events (events/, docs/events.md).
@dataclass(frozen=True)
class CommunityEventStarted:
    """An event announced as running (once, however many processes serve the app)."""
    event_id: int
    name: str
    starts_at: datetime
    ends_at: datetime
    contest: bool
    banner_id: Optional[int]
    post_id: Optional[int]


@dataclass(frozen=True)
class CommunityEventJudged:
    """An event's contest judged (once): its entries' places are frozen."""
    event_id: int
    entries: int
    winner_character_ids: tuple[int, ...]
    scores: tuple[int, ...]  # the winners' retained users, in place order


@dataclass(frozen=True)
class CommunityEventPrizePaid:
    """A winner's prize, paid by its ledger transaction (once per event and place)."""
    event_id: int
    user_id: int
    character_id: int
    place: int
    gems: int
    transaction_id: int


ALL_EVENTS = ALL_EVENTS + (CommunityEventStarted, CommunityEventJudged, CommunityEventPrizePaid)


@dataclass(frozen=True)
class ContentPurchased:
    """Paid content bought (billing.purchases.buy), never for a replayed idempotency key."""
    purchase_id: int
    buyer_id: int
    creator_id: Optional[int]
    character_id: int
    kind: str  # story | card
    item_id: int
    gems: int
    creator_gems: int


@dataclass(frozen=True)
class PurchaseRefunded:
    """A moderator refunded a purchase (billing.purchases.refund): the buyer got `gems` back,
    `creator_clawback` of them from the creator and the rest from the operator's account."""
    purchase_id: int
    buyer_id: int
    creator_id: Optional[int]
    character_id: Optional[int]
    kind: str
    item_id: int
    gems: int
    creator_clawback: int
    moderator_id: int


ALL_EVENTS = (*ALL_EVENTS, ContentPurchased, PurchaseRefunded)  # paid content (issue 17)
