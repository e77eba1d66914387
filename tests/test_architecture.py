"""The package graph of docs/architecture.md holds: import-linter's contracts (.importlinter) pass
on the tree, and they do fail when someone adds an upward import, a cycle or a Config read."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("app", "core", "inference", "characters", "conversations", "gacha", "discovery",
            "studio", "relationships", "moderation", "safety", "analytics", "community",
            "rooms", "assistant", "billing", "curation", "events")


def lint(tree: Path) -> subprocess.CompletedProcess:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    return subprocess.run([str(lint_imports), "--config", str(tree / ".importlinter"),
                           "--no-cache"], cwd=tree, env={"PYTHONPATH": str(tree), "PATH": ""},
                          capture_output=True, text=True, timeout=120)


def test_the_tree_keeps_every_import_contract():
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.fixture
def tree_copy(tmp_path):
    """The Python files of the root packages and config.py, to break on purpose."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package,
                        ignore=lambda _dir, names: [n for n in names if not (
                            n.endswith(".py") or (Path(_dir) / n).is_dir()) or n == "__pycache__"])
    shutil.copy(ROOT / "config.py", tmp_path / "config.py")
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    return tmp_path


@pytest.mark.parametrize("module, added, broken", [
    ("core/errors.py", "import app.wiring", "Layers"),  # the ground importing the top
    ("characters/models.py", "import relationships.models", "Layers"),  # a domain upwards
    ("gacha/models.py", "import conversations.models", "Layers"),  # between independent siblings
    ("inference/engine.py", "import core.db", "Layers"),  # the engine into the ground
    ("relationships/story.py", "from config import Config", "read config.py"),
    ("conversations/models.py", "import conversations.replies", "No import cycles"),
])
def test_an_upward_import_a_cycle_or_a_config_read_breaks_a_contract(tree_copy, module, added,
                                                                      broken):
    path = tree_copy / module
    path.write_text(path.read_text() + f"\n{added}  # added by the test\n")
    result = lint(tree_copy)
    assert result.returncode != 0
    broken_lines = [line for line in result.stdout.splitlines() if "BROKEN" in line]
    assert any(broken in line for line in broken_lines), result.stdout
