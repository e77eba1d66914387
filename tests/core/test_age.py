"""Age: sign-up takes an optional birth year; an account without one counts as under 18 until
it gives one, once (POST /api/me/age)."""
from datetime import datetime, timezone

import pytest

from core.users import is_adult

pytestmark = pytest.mark.both_databases
THIS_YEAR = datetime.now(timezone.utc).year


def _signup(client, **extra):
    return client.post("/api/auth/signup", json={"username": "ager", "password": "password1",
                                                 **extra})


def _me(client) -> dict:
    return client.get("/api/auth/me").get_json()["user"]


def test_sign_up_with_a_birth_year_makes_an_adult(client):
    assert _signup(client, birth_year=THIS_YEAR - 30).status_code == 201
    assert _me(client)["adult"] is True and _me(client)["birth_year"] == THIS_YEAR - 30


def test_an_account_without_a_birth_year_counts_as_under_18_until_it_gives_one(client):
    body = _signup(client).get_json()
    assert _me(client)["adult"] is False
    headers = {"X-CSRF-Token": body["csrf_token"]}
    given = client.post("/api/me/age", json={"birth_year": THIS_YEAR - 25}, headers=headers)
    assert given.status_code == 200 and given.get_json()["user"]["adult"] is True
    again = client.post("/api/me/age", json={"birth_year": THIS_YEAR - 60}, headers=headers)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "age_already_set"
    assert _me(client)["birth_year"] == THIS_YEAR - 25


@pytest.mark.parametrize("year, code, status", [
    ("1990", "bad_birth_year", 400), (THIS_YEAR + 1, "bad_birth_year", 400),
    (THIS_YEAR - 200, "bad_birth_year", 400), (True, "bad_birth_year", 400),
    (THIS_YEAR - 5, "too_young", 403)])
def test_bad_birth_years_are_refused_and_no_account_is_made(client, year, code, status):
    response = _signup(client, birth_year=year)
    assert response.status_code == status and response.get_json()["error"]["code"] == code
    assert client.post("/api/auth/login", json={"username": "ager",
                                                "password": "password1"}).status_code == 401


def test_a_teen_is_not_an_adult_and_a_year_alone_is_read_conservatively():
    class Person:
        def __init__(self, birth_year):
            self.birth_year = birth_year
    today = datetime(2026, 6, 1, tzinfo=timezone.utc)
    assert not is_adult(Person(2010), today)
    assert not is_adult(Person(2008), today)  # 17 or 18: not known to be 18 yet
    assert is_adult(Person(2007), today)
    assert not is_adult(Person(None), today)
