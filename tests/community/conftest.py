"""Two people for the community tests, each with a client of their own, signed up through the
API (moderation's Person)."""
import pytest

from tests.moderation.conftest import Person


@pytest.fixture
def alice(app):
    return Person(app)


@pytest.fixture
def bob(app):
    return Person(app)
