"""@assistant in a room, with the tiny random-weight model: its words are noise, so these check
what does not depend on them: which messages each answer reads, the links, the private flag,
the bounded length and which kind a request gets."""
import pytest

from assistant.room import MAX_TEXT_CHARS, kind_of, respond, respond_stream
from discovery.embeddings import default_embedder

SAM, ALEX, JO = 1, 2, 3
NAMES = {"users": {SAM: "Sam", ALEX: "Alex", JO: "Jo"}, "characters": {9: "Odessa"}}


def message(id, user_id, content, speaker="user", character_id=None, **extra):
    name = NAMES["characters"][character_id] if speaker == "character" else \
        NAMES["users"].get(user_id)
    return {"id": id, "speaker": speaker, "user_id": user_id, "character_id": character_id,
            "name": name, "content": content, "ooc": False, "created_at": None, **extra}


HISTORY = [
    message(1, SAM, "Morning all! Is everyone still up for the hike on Saturday?"),
    message(2, ALEX, "Yes, I booked the campsite at Lake Varna for two nights."),
    message(3, JO, "I can drive, my car fits four people."),
    message(4, SAM, "Great. I'll bring the tent and the stove."),
    message(5, ALEX, "My sister's birthday party is on Friday, so I leave early."),
    message(6, None, "*Odessa polishes a glass* Saturday sounds like trouble.", "character", 9),
    message(7, JO, "Reminder: the trailhead opens at 7 am, we meet at the station."),
    message(8, ALEX, "Who has the first-aid kit? I lost mine."),
    message(9, SAM, "@assistant catch me up"),
]


@pytest.fixture(scope="module")
def embedder():
    return default_embedder()


@pytest.mark.parametrize("request_text, kind", [
    ("@assistant catch me up", "catch_up"),
    ("@assistant what did I miss?", "catch_up"),
    ("@assistant, give me a quick recap", "catch_up"),
    ("@assistant", "catch_up"),
    ("@assistant suggest a reply", "suggestion"),
    ("@assistant what should I say to Alex?", "suggestion"),
    ("@assistant help me reply politely", "suggestion"),
    ("@assistant where is the campsite?", "answer"),
    ("@Assistant who is driving on Saturday", "answer"),
])
def test_the_request_text_picks_the_kind_of_answer(request_text, kind):
    assert kind_of(request_text) == kind


def test_catch_up_reads_only_what_others_said_after_the_last_read_message(inference):
    result = respond(inference, "@assistant catch me up", HISTORY, SAM, 4, NAMES)
    assert result["kind"] == "catch_up" and result["private"] is False
    # 5-8 came after message 4; 9 is Sam's own request
    assert result["message_ids"] == [5, 6, 7, 8]
    assert 0 < len(result["text"]) <= MAX_TEXT_CHARS


def test_asking_twice_for_the_same_catch_up_gives_the_same_summary(inference):
    first = respond(inference, "@assistant catch me up", HISTORY, SAM, 1, NAMES)["text"]
    again = respond(inference, "@assistant recap please", HISTORY, SAM, 1, NAMES)["text"]
    assert first == again


def test_catch_up_without_a_last_read_message_reads_all_the_others_wrote(inference):
    result = respond(inference, "@assistant catch me up", HISTORY, SAM, None, NAMES)
    assert result["message_ids"] == [2, 3, 5, 6, 7, 8]


def test_catch_up_with_nothing_new_says_so_without_the_model(inference):
    result = respond(inference, "@assistant what did I miss", HISTORY, ALEX, 8, NAMES)
    assert result["message_ids"] == [] and "caught up" in result["text"]


def test_the_assistants_own_turns_and_others_private_drafts_are_not_news(inference):
    history = HISTORY[:8] + [
        message(10, SAM, "Here is what happened...", "assistant"),
        message(11, JO, "Maybe say: see you there!", "assistant", private_to=JO),
        message(12, JO, "Sam, can you bring matches?"),
    ]
    result = respond(inference, "@assistant catch me up", history, SAM, 8, NAMES)
    assert result["message_ids"] == [12]


@pytest.mark.parametrize("question, answer_id", [
    ("@assistant where did Alex book the campsite?", 2),
    ("@assistant who is driving?", 3),
    ("@assistant what time does the trailhead open?", 7),
    ("@assistant why does Alex have to leave early?", 5),
    ("@assistant who is bringing the tent?", 4),
])
def test_a_question_is_answered_from_the_messages_that_hold_the_answer(inference, embedder,
                                                                       question, answer_id):
    result = respond(inference, question, HISTORY, JO, None, NAMES, embedder=embedder)
    assert result["kind"] == "answer" and result["private"] is False
    assert answer_id in result["message_ids"]
    assert 9 not in result["message_ids"]  # a request to the assistant is no source
    assert len(result["message_ids"]) <= 5
    assert result["message_ids"] == sorted(result["message_ids"])
    assert 0 < len(result["text"]) <= MAX_TEXT_CHARS


def test_the_best_match_for_a_question_is_the_message_that_answers_it(embedder):
    from assistant.history_qa import retrieve
    from assistant.messages import conversation
    readable = conversation(HISTORY, NAMES, JO)
    found = retrieve(embedder, "where is the campsite?", readable, top_k=1)
    assert [m["id"] for m in found] == [2]


def test_a_question_in_an_empty_room_is_answered_without_the_model(inference, embedder):
    result = respond(inference, "@assistant who said what?", [HISTORY[-1]], SAM, None, NAMES,
                     embedder=embedder)
    assert result["kind"] == "answer" and result["message_ids"] == []


def test_a_suggested_reply_is_private_and_reads_the_latest_messages(inference):
    result = respond(inference, "@assistant suggest a reply", HISTORY, SAM, None, NAMES)
    assert result["kind"] == "suggestion" and result["private"] is True
    assert result["message_ids"] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert len(result["text"]) <= MAX_TEXT_CHARS


def test_a_long_history_is_cut_to_the_prompt_budget_keeping_the_newest(inference):
    long = [message(i, ALEX, f"Message number {i} about the plan, with some words to fill it. "
                             * 6) for i in range(1, 301)]
    result = respond(inference, "@assistant catch me up", long, SAM, None, NAMES)
    ids = result["message_ids"]
    assert 0 < len(ids) < 300 and ids[-1] == 300 and ids == list(range(ids[0], 301))


def test_the_stream_ends_with_the_result_after_its_text(inference):
    items = list(respond_stream(inference, "@assistant catch me up", HISTORY, SAM, 4, NAMES))
    *pieces, result = items
    assert all(isinstance(p, str) for p in pieces) and isinstance(result, dict)
    assert result["text"] and result["message_ids"] == [5, 6, 7, 8]


def test_room_message_rows_are_read_like_dicts(inference):
    from rooms.models import RoomMessage
    rows = [RoomMessage(id=m["id"], room_id=1, speaker=m["speaker"], user_id=m["user_id"],
                        character_id=m["character_id"], content=m["content"])
            for m in HISTORY]
    result = respond(inference, "@assistant catch me up", rows, SAM, 4, NAMES)
    assert result["message_ids"] == [5, 6, 7, 8]


@pytest.mark.parametrize("text", ["word " * 400, "x" * 2000, "Short. " + "y" * 2000])
def test_an_answer_cut_to_the_limit_stays_within_it(text):
    from assistant.generate import clip
    clipped = clip(text, MAX_TEXT_CHARS)
    assert 0 < len(clipped) <= MAX_TEXT_CHARS
    assert clipped.endswith("...") and text.startswith(clipped[:-3])
