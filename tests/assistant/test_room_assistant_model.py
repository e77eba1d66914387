"""@assistant with the real SmolLM2-135M-Instruct: a catch-up tells of what was missed."""
import pytest

from assistant.room import MAX_TEXT_CHARS, respond
from config import Config
from inference import LocalEngine, load_model
from tests.assistant.test_room_assistant import HISTORY, NAMES, SAM

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def real_engine():
    engine = LocalEngine(load_model("", Config.MODEL_CACHE_DIR), threads=Config.TORCH_THREADS,
                         native_build_dir=Config.NATIVE_BUILD_DIR)
    yield engine
    engine.close()


def test_a_catch_up_names_who_or_what_the_missed_messages_were_about(real_engine):
    result = respond(real_engine, "@assistant catch me up", HISTORY, SAM, 1, NAMES)
    text = result["text"]
    print(f"\ncatch-up: {text!r}")
    assert result["kind"] == "catch_up" and result["message_ids"] == [2, 3, 5, 6, 7, 8]
    assert 0 < len(text) <= MAX_TEXT_CHARS
    mentioned = {"Alex", "Jo", "Odessa", "campsite", "Lake Varna", "car", "drive", "birthday",
                 "trailhead", "station", "first-aid", "hike"}
    assert any(word.lower() in text.lower() for word in mentioned), text
    assert "<|im_" not in text
