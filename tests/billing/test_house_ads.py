"""House ads: off by default; when the operator turns them on, a signed-in adult on free sees
one on the home page and from GET /api/house-ad, labelled as the community's own; a plus member,
an account that may be under 18 and a visitor never do. A malformed HOUSE_ADS stops the start."""
import pytest

from app import create_app
from billing.ads import check_ads
from core.errors import KindredError
from core.users import User
from tests.billing.conftest import deliver, event

ADS = [{"id": "rooms", "title": "Chat together", "text": "Open a room.", "url": "/rooms"},
       {"id": "feed", "title": "See the feed", "url": "/feed"}]


@pytest.fixture
def app_config(app_config):
    return type("AdsConfig", (app_config,), {"HOUSE_ADS_ENABLED": True, "HOUSE_ADS": ADS})


def _adult(person, birth_year=1990):
    with person.session() as session:
        user = session.get(User, person.id)
        user.birth_year = birth_year
        session.add(user)
        session.commit()
    return person


def _ad(person):
    response = person.call("GET", "/api/house-ad")
    assert response.status_code == 200
    return response.get_json()["ad"]


def test_a_free_adult_sees_one_labelled_ad_the_same_all_day(app, people):
    adult = _adult(people(1)[0])
    ad = _ad(adult)
    assert ad["id"] in {"rooms", "feed"} and ad["label"] == "From this community"
    assert _ad(adult) == ad
    home = adult.get("/").get_data(as_text=True)
    assert 'id="house-ad"' in home and f'data-ad-id="{ad["id"]}"' in home
    assert "From this community" in home


def test_members_minors_and_visitors_never_see_one(app, client, people):
    member, minor, unknown_age = people(3)
    _adult(member)
    _adult(minor, birth_year=2015)
    assert deliver(client, event("evt_ads", user_id=member.id)).status_code == 200
    for person in (member, minor, unknown_age):  # no birth year counts as under 18
        assert _ad(person) is None
        assert 'id="house-ad"' not in person.get("/").get_data(as_text=True)
    visitor = app.test_client()
    assert visitor.get("/api/house-ad").get_json() == {"ad": None}
    assert 'id="house-ad"' not in visitor.get("/").get_data(as_text=True)


def test_ads_are_off_unless_the_operator_turns_them_on(app, people):
    adult = _adult(people(1)[0])
    app.config["HOUSE_ADS_ENABLED"] = False
    assert _ad(adult) is None


@pytest.mark.parametrize("ads", [
    {"id": "x"},                                           # not a list
    [{"id": "x"}],                                         # no title
    [{"id": "x", "title": "t" * 81}],                      # too long
    [{"id": "x", "title": "Go", "url": "https://elsewhere.example"}],  # off the site
    [{"id": "x", "title": "Go", "colour": "red"}],         # unknown field
])
def test_a_malformed_house_ads_setting_is_refused_with_its_reason(ads, app_config):
    with pytest.raises(KindredError, match="(?i)house.ad"):
        check_ads(ads)
    with pytest.raises(KindredError):
        create_app(type("BadAds", (app_config,), {"HOUSE_ADS": ads}))
