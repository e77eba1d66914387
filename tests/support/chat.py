"""Store chat turns directly through the chat service (for tests that are not about generation)."""
from conversations import service
from core.db import session_scope
from conversations.models import Conversation, Message


def add_turn(app, conversation_id: int, user_text: str | None, reply_text: str,
             parent_id: int | None = None) -> tuple[int | None, int]:
    """Append a user message (unless None) and a reply; returns their ids."""
    with session_scope(app.extensions["kindred.db"]) as session:
        conversation = session.get(Conversation, conversation_id)
        if parent_id is not None:
            conversation.active_leaf_id = parent_id
        question = service.add_user_message(session, conversation, user_text) if user_text else None
        parent = question or session.get(Message, conversation.active_leaf_id)
        reply = service.add_reply_placeholder(session, conversation, parent)
        reply.content, reply.status = reply_text, "complete"
        session.add(reply)
        session.commit()
        return (question.id if question else None), reply.id
