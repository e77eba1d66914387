"""/admin/analytics in Chromium against the real server: the demo data set made by
`flask --app app.cli analytics simulate` is drawn by Chart.js (every chart's canvas present and
of non-zero size), labelled as simulated, with the retention grid's incomplete cells marked and
no script error or CSP violation."""
import os
import secrets
import subprocess

import pytest

from tests.support import browser as browser_fixtures
from tests.support.live_server import PYTHON, REPO, live_server

browser, page = browser_fixtures.browser, browser_fixtures.page  # the fixtures
CHARTS = ("chart-activity", "chart-retention", "chart-engagement", "chart-funnels",
          "chart-community")


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_model_dir):
    with live_server(tmp_path_factory.mktemp("analytics-server"), model_path=str(tiny_model_dir),
                     max_new_tokens=4) as running:
        running.flask = lambda *args: subprocess.run(
            [str(PYTHON), "-m", "flask", "--app", "app.cli", *args], cwd=REPO, check=True,
            capture_output=True, text=True, timeout=120,
            env={**os.environ, "DATABASE_URL": f"sqlite:///{running.instance_dir / 'kindred.db'}",
                 "KINDRED_INSTANCE_DIR": str(running.instance_dir)}).stdout
        yield running


def test_the_dashboard_draws_the_simulated_data_set(page, server):
    made = server.flask("analytics", "simulate", "--users", "80", "--days", "35", "--seed", "2")
    assert "Simulated 80 users" in made
    username = f"admin_{secrets.token_hex(4)}"
    signup = page.request.post(server.url + "/api/auth/signup", data={
        "username": username, "password": "correct horse battery"})
    assert signup.status == 201, signup.text()
    server.flask("users", "grant-role", username, "admin")
    violations = []
    page.on("console", lambda m: violations.append(m.text)
            if "Content Security Policy" in m.text else None)

    page.goto(server.url + "/admin/analytics?dataset=demo")
    page.wait_for_selector("#analytics[data-loaded=true]")
    assert page.locator("#simulated-banner").is_visible()
    for chart in CHARTS:
        size = page.evaluate("""(id) => { const c = document.getElementById(id);
            return c && c.dataset.drawn === "true" ? [c.width, c.height] : null; }""", chart)
        assert size and size[0] > 0 and size[1] > 0, chart
    assert page.locator("#retention-grid td.incomplete").count() > 0
    assert page.locator("#experiment-table tr[data-arm]").count() == 2
    assert "Took part" in page.locator("#community-summary").inner_text()
    assert page.locator("#analytics-error").is_hidden()

    page.select_option("#retention-mode", "on_or_after")
    page.select_option("#retention-period", "week")
    page.wait_for_function("() => document.querySelector('#retention-grid th:nth-child(3)')"
                           "?.textContent === 'W0'")
    assert page.script_errors == [] and violations == []
    server.assert_no_tracebacks()
