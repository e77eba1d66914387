"""People for the help desk tests: moderation's Person (own client, signed up, maybe a role)."""
import pytest

from tests.moderation.conftest import Person


@pytest.fixture
def person(app):
    def make(role="user") -> Person:
        return Person(app, role)
    return make
