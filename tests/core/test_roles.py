"""Roles: granted from the command line, shown by /api/auth/me, ranked user < moderator < admin."""
import pytest

from app.cli import app as cli_app
from core.auth.roles import has_role

pytestmark = pytest.mark.both_databases


def _grant(monkeypatch, database_url, *args):
    monkeypatch.setattr("config.Config.DATABASE_URL", database_url)
    return cli_app.test_cli_runner().invoke(args=["users", "grant-role", *args])


def test_grant_role_from_the_command_line(app, client, auth, monkeypatch):
    auth.signup("Mira")
    assert client.get("/api/auth/me").get_json()["user"]["role"] == "user"
    result = _grant(monkeypatch, app.config["DATABASE_URL"], "mira", "moderator")
    assert result.exit_code == 0, result.output
    assert "Mira is now moderator" in result.output
    assert client.get("/api/auth/me").get_json()["user"]["role"] == "moderator"


def test_grant_role_refuses_unknown_users_and_roles(app, monkeypatch):
    unknown_user = _grant(monkeypatch, app.config["DATABASE_URL"], "nobody", "admin")
    assert unknown_user.exit_code != 0 and "No user" in unknown_user.output
    unknown_role = _grant(monkeypatch, app.config["DATABASE_URL"], "nobody", "overlord")
    assert unknown_role.exit_code != 0 and "overlord" in unknown_role.output


def test_roles_rank_upward():
    assert has_role("admin", "moderator") and has_role("moderator", "moderator")
    assert not has_role("user", "moderator") and not has_role("moderator", "admin")
    assert not has_role("root", "user")
