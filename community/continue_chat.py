"""Continuing a shared chat: your own conversation with the post's character, seeded with the
exchange the post shows, so you carry the story on yourself. No Flask here.

Decisions written down here (docs/community.md, "Remix"):
- Only posts that show an exchange with a character can be continued (`chat`, and `story` posts
  with an excerpt); any other post is 422 `nothing_to_continue`, nothing stored.
- The post must be visible to you, and its character too (404 otherwise, as for starting any
  chat); a suspended or banned account cannot (403, as chat answers).
- The exchange is copied as it was posted (masked), the post author's lines becoming yours. It
  starts the conversation when it opens with the character; when it opens with a person's line,
  the card's greeting comes first, as in every chat (a card without one opens with a short
  narration line instead)."""
from sqlmodel import Session

from characters.models import Character
from characters.service import visible_character
from community.models import Post
from community.posts import visible_post
from conversations.models import Conversation
from conversations.placeholders import fill_placeholders
from conversations.service import append_message, open_conversation
from core.errors import KindredError
from core.users import User, check_standing

CONTINUABLE_KINDS = ("chat", "story")
SOURCE = "post"  # ConversationStarted.source


def continue_post(session: Session, user_id: int, post_id) -> Conversation:
    """A new conversation of the user with the post's character, holding the shared exchange,
    its last line the active leaf. Commits; raises KindredError, storing nothing."""
    user = session.get(User, user_id)
    check_standing(user, "chat")
    post = visible_post(session, post_id, user)
    lines = _exchange(post)
    character = visible_character(session, post.character_id, user.id)
    if lines[0]["role"] == "character":
        opening, rest = lines[0]["content"], lines[1:]
    else:
        opening, rest = _greeting(character, user), lines
    conversation = open_conversation(session, user, character, opening, source=SOURCE)
    for line in rest:
        append_message(session, conversation, "user" if line["role"] == "user" else "assistant",
                       line["content"], commit=False)
    session.commit()
    return conversation


def _exchange(post: Post) -> list[dict]:
    lines = [line for line in (post.excerpt or [])
             if isinstance(line, dict) and str(line.get("content") or "").strip()]
    if post.kind not in CONTINUABLE_KINDS or post.character_id is None or not lines:
        raise KindredError("nothing_to_continue",
                           "Only a post that shares a chat with a character can be continued; "
                           "start a chat with the character instead. Nothing was stored.", 422)
    return lines


def _greeting(character: Character, user: User) -> str:
    greeting = fill_placeholders(character.first_mes or "", character.name, user.username)
    return greeting if greeting.strip() else f"*{character.name} picks up where the shared " \
                                             f"chat left off.*"
