"""`flask --app app.cli moderation classify FILE.jsonl`: one JSON line per input, with the
documented keys, from the server's pipeline."""
import json

from click.testing import CliRunner

from app.cli import app as cli_app


def test_classify_prints_one_json_decision_per_line(app, monkeypatch, tmp_path):
    monkeypatch.setattr("config.Config.DATABASE_URL", app.config["DATABASE_URL"])
    lines = [{"text": "*draws my sword and charges the orc*", "surface": "chat_message"},
             {"text": "mail me at lucy.h@protonmail.com", "surface": "chat_message"},
             {"text": "I'm going to kill myself tonight", "surface": "post"},
             {"text": "lucy.h@protonmail.com", "surface": "username"}]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines) + "\n")
    result = CliRunner().invoke(cli_app.cli, ["moderation", "classify", str(source)])
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == len(lines)
    for decision in out:
        assert {"categories", "flagged", "action"} <= set(decision)
        assert len(decision["categories"]) == 8
    assert [d["action"] for d in out] == ["allow", "mask", "support", "block"]
    assert out[1]["flagged"] == ["privacy"] and out[1]["text"] == "mail me at [email hidden]"


def test_classify_names_the_line_it_cannot_read(app, monkeypatch, tmp_path):
    monkeypatch.setattr("config.Config.DATABASE_URL", app.config["DATABASE_URL"])
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "hello"}\n{"surface": "post"}\n')
    result = CliRunner().invoke(cli_app.cli, ["moderation", "classify", str(source)])
    assert result.exit_code != 0 and "line 2" in result.output
