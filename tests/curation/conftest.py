"""People for the curation tests (moderation's Person: own client, signed up through the API),
an admin among them, and a reader of what is stored."""
import pytest
from sqlmodel import Session, select

from curation.models import EditorsPick, InstanceSettings
from tests.moderation.conftest import Person


@pytest.fixture
def admin(app):
    return Person(app, role="admin")


@pytest.fixture
def member(app):
    return Person(app)


def stored(app) -> tuple:
    """What curation has stored: the settings row (as a dict, or None) and the picks."""
    with Session(app.extensions["kindred.db"]) as session:
        row = session.get(InstanceSettings, 1)
        settings = None if row is None else row.model_dump(exclude={"updated_at"})
        picks = [(p.kind, p.item_id, p.note) for p in
                 session.exec(select(EditorsPick).order_by(EditorsPick.id))]
        return settings, picks
