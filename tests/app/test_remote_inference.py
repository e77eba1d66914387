"""INFERENCE=openai (issue 18, "Remote models"): replies from an OpenAI-compatible server.

The server under test is llama-cpp-python's own, `python -m llama_cpp.server`, from bench/.venv
(`make setup`'s instance/.llamacpp-ready), on the packaged SmolLM2 GGUF, started once for the
module; the tokenizer prompting it is the same model's (MODEL_PATH ""). Without bench/.venv
those tests skip (fail in CI). The bad-configuration tests need no server."""
import os
import subprocess
import time

import pytest
import requests

from app import create_app
from bench.llamacpp_env import BENCH_PYTHON, installed
from core.extensions import socketio
from core.migrate import upgrade_database
from inference import GenerationParams, ModelLoadError
from inference.engine import FINISH_CANCELLED, FINISH_LENGTH, FINISH_STOP
from inference.loader import load_tokenizer, packaged_gguf_path
from inference.openai_engine import OpenAIEngine
from tests.conftest import AuthActions
from tests.support import require
from tests.support.db_templates import migrate_and_seed
from tests.support.events import collect_until, payloads
from tests.support.live_server import free_port

START_TIMEOUT = 120.0
PROMPT_MESSAGES = [{"role": "user", "content": "Tell me a long story about a lighthouse keeper."}]
GREEDY = dict(temperature=0.0, top_p=1.0, top_k=1, repetition_penalty=1.0)


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    require(installed(), "llama-cpp-python[server] is not in bench/.venv (make setup installs it: "
                         "python -m bench.llamacpp_env)")
    port, log_path = free_port(), tmp_path_factory.mktemp("llama-server") / "server.log"
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            [str(BENCH_PYTHON), "-m", "llama_cpp.server", "--model", str(packaged_gguf_path()),
             "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048",
             "--n_threads", "1", "--interrupt_requests", "False"],
            stdout=log_file, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},  # its "Disconnected" line, at once
            start_new_session=True)  # a signal to the test run's process group is not for it
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                if requests.get(url + "/models", timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        yield type("LlamaServer", (), {"url": url, "log": staticmethod(log_path.read_text),
                                       "process": process})
    finally:
        process.terminate()
        process.wait(timeout=15)


@pytest.fixture(autouse=True)
def server_still_running(request):
    """A server that died says how (its exit code, the end of its log), not only 'refused'."""
    yield
    if "llama_server" in request.fixturenames:
        server = request.getfixturevalue("llama_server")
        code = server.process.poll()
        assert code is None, f"llama_cpp.server exited ({code}):\n{server.log()[-3000:]}"


@pytest.fixture(scope="module")
def remote(llama_server):
    engine = OpenAIEngine(llama_server.url, load_tokenizer("").tokenizer, context_window=2048,
                          timeout=60)
    yield engine
    engine.close()


def test_chunks_stream_in_as_the_server_writes_them(remote):
    job = remote.submit(remote.render_chat(PROMPT_MESSAGES),
                        GenerationParams(max_new_tokens=24, **GREEDY))
    chunks = iter(job)
    first = next(chunks)
    assert first and job.finish_reason is None  # arrived while the reply was still written
    rest = list(chunks)
    assert len(rest) >= 3 and job.finish_reason in (FINISH_STOP, FINISH_LENGTH)


def test_a_stop_string_ends_the_reply_without_the_stop_text(remote):
    prompt = remote.render_chat(PROMPT_MESSAGES)
    full = "".join(remote.submit(prompt, GenerationParams(max_new_tokens=40, **GREEDY)))
    words = full.split()
    assert len(words) > 6, full
    stop = " " + words[5]
    job = remote.submit(prompt, GenerationParams(max_new_tokens=40, stop=[stop], **GREEDY))
    text = "".join(job)
    assert job.finish_reason == FINISH_STOP
    assert stop not in text and text.strip() == full[:full.index(stop)].strip()


def test_cancelling_mid_stream_ends_the_servers_request(remote, llama_server):
    job = remote.submit(remote.render_chat(PROMPT_MESSAGES),
                        GenerationParams(max_new_tokens=1500, **GREEDY))
    chunks = iter(job)
    for _ in range(3):
        next(chunks)
    remote.cancel(job)
    list(chunks)
    assert job.finish_reason == FINISH_CANCELLED and job.tokens_generated < 1500
    # llama_cpp.server notices the closed connection and stops generating (its own log line);
    # the next request is answered, so it is not still busy with the cancelled one.
    after = remote.submit(remote.render_chat(PROMPT_MESSAGES),
                          GenerationParams(max_new_tokens=4, **GREEDY))
    assert "".join(after) and after.finish_reason in (FINISH_STOP, FINISH_LENGTH)
    assert "Disconnected from client" in llama_server.log()


def test_scoring_uses_the_servers_logprobs_or_says_it_cannot(remote):
    prompt = remote.render_chat([{"role": "user", "content": "Answer yes or no: is ice cold?"}])
    try:
        yes, no = remote.score_choices(prompt, ["yes", "no"], timeout=30)
    except NotImplementedError as exc:  # a server that gives no logprobs
        assert "logprobs" in str(exc)
    else:
        assert yes <= 0 and no <= 0


def _openai_app(tmp_path, database_templates, **settings):
    from config import TestConfig
    config = type("RemoteConfig", (TestConfig,), {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'kindred.db'}", "INSTANCE_DIR": tmp_path / "i",
        "INFERENCE": "openai", "MODEL_PATH": "", "EMBED_ON_PUBLISH": False, **settings})
    if not database_templates.copy_into("app", migrate_and_seed, config.DATABASE_URL,
                                        config.INSTANCE_DIR / "avatars"):
        upgrade_database(config.DATABASE_URL)
    return create_app(config)


def _chat(app):
    client = app.test_client()
    auth = AuthActions(client)
    auth.signup()
    return auth, socketio.test_client(app, flask_test_client=client)


def test_a_chat_streams_from_the_remote_server_end_to_end(tmp_path, database_templates,
                                                          llama_server):
    app = _openai_app(tmp_path, database_templates, OPENAI_BASE_URL=llama_server.url)
    try:
        auth, sio = _chat(app)
        conversation = auth.start_conversation()["id"]
        sio.emit("chat:send", {"conversation_id": conversation, "content": "Hello there!"})
        events = collect_until(sio)
        tokens, done = payloads(events, "chat:token"), payloads(events, "chat:done")
        assert len(tokens) > 1 and done, [e["name"] for e in events]
        assert done[0]["message"]["content"] == "".join(t["text"] for t in tokens).strip()
        sio.disconnect()
    finally:
        app.extensions["kindred.inference"].close()
        app.extensions["kindred.db"].dispose()


def test_an_unreachable_server_gives_a_chat_error_and_keeps_the_message(tmp_path,
                                                                        database_templates):
    app = _openai_app(tmp_path, database_templates,
                      OPENAI_BASE_URL=f"http://127.0.0.1:{free_port()}/v1", OPENAI_MODEL="m")
    try:
        auth, sio = _chat(app)
        conversation = auth.start_conversation()["id"]
        sio.emit("chat:send", {"conversation_id": conversation, "content": "Anyone there?"})
        events = collect_until(sio)
        error = payloads(events, "chat:error")[0]
        assert error["code"] == "generation_failed" and error["conversation_id"] == conversation
        assert not payloads(events, "chat:done")
        messages = auth.call("GET", f"/api/conversations/{conversation}").get_json()[
            "conversation"]["messages"]
        assert [m["content"] for m in messages if m["role"] == "user"] == ["Anyone there?"]
        assert messages[-1]["role"] == "user"  # no half-made reply left
        sio.disconnect()
    finally:
        app.extensions["kindred.inference"].close()
        app.extensions["kindred.db"].dispose()


def test_openai_without_a_base_url_stops_start_up_with_a_clear_error(tmp_path, database_templates):
    with pytest.raises(ModelLoadError, match="INFERENCE=openai needs OPENAI_BASE_URL"):
        _openai_app(tmp_path, database_templates, OPENAI_BASE_URL="")

