"""Bulk card import from the command line: folders, zips, a report line per file, exit codes."""
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from sqlmodel import select

from core.auth.service import sign_up
from core.db import make_engine, session_scope
from core.migrate import upgrade_database
from characters import import_cards
from characters.models import Character
from config import TestConfig

ROOT = Path(__file__).resolve().parents[2]
SERAPHINA = Path("/work/shared/fixtures/cards/default_Seraphina.png")
JSON_CARD = {"spec": "chara_card_v2", "spec_version": "2.0",
             "data": {"name": "Bram the Ferryman", "description": "{{char}} rows the river.",
                      "first_mes": "Fare, please.", "tags": ["river"],
                      "extensions": {"someapp/mood": {"level": 3}}}}


@pytest.fixture
def config(tmp_path):
    cfg = type("CliConfig", (TestConfig,), {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'kindred.db'}",
        "INSTANCE_DIR": tmp_path / "instance"})
    upgrade_database(cfg.DATABASE_URL)
    engine = make_engine(cfg.DATABASE_URL)
    with session_scope(engine) as session:
        sign_up(session, "Alice", "correct horse")
    engine.dispose()
    return cfg


@pytest.fixture
def cards(tmp_path) -> Path:
    folder = tmp_path / "cards"
    (folder / "nested").mkdir(parents=True)
    shutil.copy(SERAPHINA, folder / "default_Seraphina.png")
    (folder / "nested" / "bram.json").write_text(json.dumps(JSON_CARD))
    (folder / "broken.png").write_bytes(SERAPHINA.read_bytes()[:3000])
    (folder / "notes.txt").write_text("not a card, ignored")
    return folder


def characters_in(cfg) -> list[Character]:
    engine = make_engine(cfg.DATABASE_URL)
    with session_scope(engine) as session:
        found = list(session.exec(select(Character).order_by(Character.id)))
    engine.dispose()
    return found


def test_folder_import_reports_each_file_and_fails_on_the_broken_one(config, cards, capsys):
    code = import_cards.main([str(cards), "--owner", "alice"], config=config)
    out = capsys.readouterr()
    assert code == 1
    lines = [line for line in out.out.splitlines() if line.startswith(("OK", "FAILED"))]
    assert len(lines) == 3
    assert lines[0].startswith("FAILED  broken.png: truncated_png:")
    assert lines[1].startswith("OK      default_Seraphina.png: 'Seraphina'")
    assert "4 lorebook entries" in lines[1]
    assert lines[2].startswith("OK      nested/bram.json: 'Bram the Ferryman'")
    assert "2 imported, 1 failed, 3 files" in out.out
    assert "Importing cards" in out.err  # the tqdm progress bar

    stored = characters_in(config)
    assert [c.name for c in stored] == ["Seraphina", "Bram the Ferryman"]
    assert all(c.visibility == "private" and c.creator_id == 1 for c in stored)
    assert len(stored[0].character_book["entries"]) == 4
    assert stored[1].extensions == {"someapp/mood": {"level": 3}}
    assert (config.INSTANCE_DIR / "avatars" / stored[0].avatar_filename).exists()


def test_all_good_zip_exits_zero_and_can_publish(config, tmp_path, capsys):
    archive = tmp_path / "cards.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(SERAPHINA, "pack/default_Seraphina.png")
        zf.writestr("pack/bram.json", json.dumps(JSON_CARD))
        zf.writestr("__MACOSX/pack/._bram.json", b"\x00\x05junk")
        zf.writestr("readme.md", "ignored")
    assert import_cards.main([str(archive), "--public"], config=config) == 0
    assert "2 imported, 0 failed, 2 files" in capsys.readouterr().out
    stored = characters_in(config)
    assert {c.name for c in stored} == {"Seraphina", "Bram the Ferryman"}
    assert all(c.visibility == "public" and c.creator_id is None for c in stored)


def test_zip_member_over_the_size_limit_fails_without_inflating_it_all(config, tmp_path, capsys):
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("bomb.json", b" " * (21 * 2**20))
        zf.writestr("bram.json", json.dumps(JSON_CARD))
    assert import_cards.main([str(archive), "--public"], config=config) == 1
    assert "FAILED  bomb.json: file_too_large:" in capsys.readouterr().out
    assert [c.name for c in characters_in(config)] == ["Bram the Ferryman"]


def test_bad_arguments_exit_two_and_import_nothing(config, cards, tmp_path, capsys):
    assert import_cards.main([str(cards)], config=config) == 2  # private with no owner
    assert import_cards.main([str(cards), "--owner", "nobody"], config=config) == 2
    assert import_cards.main([str(tmp_path / "missing"), "--public"], config=config) == 2
    (tmp_path / "fake.zip").write_bytes(b"not a zip")
    assert import_cards.main([str(tmp_path / "fake.zip"), "--public"], config=config) == 2
    assert characters_in(config) == []
    assert "no user named 'nobody'" in capsys.readouterr().err


def test_runs_as_a_module_with_the_environment_config(config, cards):
    env = {**os.environ, "DATABASE_URL": config.DATABASE_URL,
           "KINDRED_INSTANCE_DIR": str(config.INSTANCE_DIR)}
    (cards / "broken.png").unlink()
    result = subprocess.run([sys.executable, "-m", "characters.import_cards", str(cards),
                             "--owner", "Alice", "--public"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "2 imported, 0 failed, 2 files" in result.stdout
    assert {c.name for c in characters_in(config)} == {"Seraphina", "Bram the Ferryman"}


def test_the_cli_never_imports_the_model_stack():
    probe = "import sys, characters.import_cards; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.stdout.strip() == "False", result.stderr


def test_flask_cards_import_command_imports_a_folder(config, cards):
    env = {**os.environ, "DATABASE_URL": config.DATABASE_URL,
           "KINDRED_INSTANCE_DIR": str(config.INSTANCE_DIR)}
    result = subprocess.run([str(Path(sys.executable).parent / "flask"), "--app", "app.cli",
                             "cards", "import", str(cards), "--owner", "Alice"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1  # broken.png fails, the others import
    assert "FAILED  broken.png" in result.stdout and "2 imported, 1 failed" in result.stdout
    assert {c.name for c in characters_in(config)} == {"Seraphina", "Bram the Ferryman"}
