"""A creator's reward in a real browser (Playwright + Debian Chromium) against the real server:
a paying fan returns to the creator's character on two November days, the operator runs
`flask --app app.cli rewards run` as a subprocess (twice: the second pays nothing), and the
studio's "Creator rewards" panel shows the month, the gems and the user-days per character."""
import os
import secrets
import subprocess
from datetime import datetime, timezone

import pytest
from sqlmodel import Session

from analytics.models import AnalyticsEvent
from billing.grants import grant
from config import Config
from core.db import make_engine
from tests.support.browser import browser, page  # noqa: F401  (fixtures)
from tests.support.live_server import PYTHON, REPO, live_server


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_model_dir):
    with live_server(tmp_path_factory.mktemp("rewards-server"), model_path=str(tiny_model_dir),
                     max_new_tokens=8, extra_env={"EMBED_ON_PUBLISH": "0"}) as running:
        yield running
        running.assert_no_tracebacks()


def rewards_run(server, *args) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{server.instance_dir / 'kindred.db'}",
           "KINDRED_INSTANCE_DIR": str(server.instance_dir)}
    return subprocess.run([str(PYTHON), "-m", "flask", "--app", "app.cli", "rewards", "run",
                           *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


def test_a_creator_sees_the_month_they_were_paid_for_in_the_studio(page, server):
    from playwright.sync_api import expect

    def sign_up(prefix, headers=None):
        response = page.request.post(server.url + "/api/auth/signup", data={
            "username": f"{prefix}_{secrets.token_hex(4)}", "password": "correct horse battery"},
            headers=headers)
        assert response.status == 201, response.text()
        return response.json()

    # From this browser too, the fan would be the creator's alt (one address, one User-Agent).
    fan = sign_up("fan", {"User-Agent": "Fan's phone/1.0"})["user"]["id"]
    creator = sign_up("maker")  # signed in as the creator from here on
    made = page.request.post(server.url + "/api/characters", data={"name": "Lantern"},
                             headers={"X-CSRF-Token": creator["csrf_token"]})
    assert made.status == 201, made.text()
    character = made.json()["character"]["id"]
    engine = make_engine(f"sqlite:///{server.instance_dir / 'kindred.db'}")
    try:
        with Session(engine) as session:
            grant(session, Config.MEMBERSHIP_TIERS, fan, "plus", 61, "admin", "browser-test",
                  {}, now=datetime(2026, 10, 1, tzinfo=timezone.utc))
            session.add_all([AnalyticsEvent(
                user_id=fan, name="message_sent", session_id="s", dataset="live",
                occurred_at=datetime(2026, 11, day, 12, tzinfo=timezone.utc),
                properties={"character_id": character, "chars": 4}) for day in (2, 3, 9)])
            session.commit()
    finally:
        engine.dispose()

    first = rewards_run(server, "--month", "2026-11", "--pool", "900")
    assert first.returncode == 0, first.stderr
    assert "paid 900 gems to 1 creators for 2 retained user-days" in first.stdout
    second = rewards_run(server, "--month", "2026-11", "--pool", "900")
    assert second.returncode == 0 and "nothing more paid" in second.stdout, second.stderr
    bad = rewards_run(server, "--month", "2026-13")
    assert bad.returncode == 2 and "YYYY-MM" in bad.stderr

    page.goto(server.url + "/studio")
    row = page.locator('#rewards-rows tr[data-month="2026-11"]')
    expect(row.locator('[data-reward="gems"]')).to_have_text("900")
    expect(row.locator('[data-reward="user_days"]')).to_have_text("2 of 2")
    expect(row).to_contain_text("Lantern: 2")
    expect(page.locator("#rewards-empty")).to_be_hidden()
    wallet = page.request.get(server.url + "/api/wallet")
    assert wallet.ok and wallet.json()["wallet"]["gems"] >= 900, wallet.text()
