"""The help desk's table: support tickets people open when the help desk was not sure. Each one is
a `ticket` target in the moderation queue (assistant/tickets.py registers it)."""
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.db import UTCDateTime, utcnow
from core.users import User

USERS = User.__tablename__  # the table user_id points to, imported so it is mapped first

MAX_QUESTION_CHARS = 500
MAX_DETAILS_CHARS = 4000


class HelpTicket(SQLModel, table=True):
    __tablename__ = "help_tickets"

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    question: str = Field(max_length=MAX_QUESTION_CHARS)
    details: str = Field(default="", sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
