"""INFERENCE=openai: replies from a remote OpenAI-compatible server (vLLM, llama.cpp's server,
llama-cpp-python's `llama_cpp.server`) instead of the in-process model.

The chat service builds its prompt as it does for the local engine, with the local tokenizer and
chat template of MODEL_PATH (count_tokens, render_chat), and that prompt is what the server gets:
POST {OPENAI_BASE_URL}/completions, streamed (server-sent events). Stop strings go to the server
and are enforced here as well (inference/streaming.py), so a server that overshoots one shows
nothing past it. A cancel shuts the response's socket: the server sees the client leave and stops
generating. Connection refused, an HTTP error, a malformed stream or a server silent for
OPENAI_TIMEOUT_SECONDS end the job with FINISH_ERROR and one logged line saying which.

At most `max_streams` requests run at once (INFERENCE_MAX_BATCH); the rest wait in the engine's
own priority line (inference/scheduling.py), so plus members still go first.
"""
import json
import logging
import threading

import requests

from inference.engine import (FINISH_CANCELLED, FINISH_ERROR, FINISH_LENGTH, FINISH_STOP,
                              GenerationParams, Job)
from inference.scheduling import DEFAULT_BURST, PRIORITY_CLOSE, PRIORITY_NORMAL, JobQueue
from inference.streaming import StopStringStreamer
from inference.text import TokenizerText

log = logging.getLogger(__name__)

FINISH_OF_SERVER = {"stop": FINISH_STOP, "eos": FINISH_STOP, "length": FINISH_LENGTH}
CONNECT_TIMEOUT = 5.0  # seconds; a reachable server answers a connect at once
SCORING_LOGPROBS = 20  # top tokens asked for when scoring (vLLM's default max_logprobs)
ERROR_BODY_CHARS = 300


class RemoteError(RuntimeError):
    """The server could not be reached or answered badly; the message says which and where."""


class OpenAIEngine(TokenizerText):
    """The InferenceEngine (inference/engine.py) of a remote OpenAI-compatible server."""

    def __init__(self, base_url: str, tokenizer, model: str = "", api_key: str = "",
                 context_window: int = 2048, timeout: float = 60.0, max_streams: int = 16,
                 priority_burst: int = DEFAULT_BURST):
        if not base_url:
            raise ValueError("OpenAIEngine needs the server's base URL")
        self.base_url = base_url.rstrip("/")
        self.tokenizer = tokenizer
        self.model = model
        self.timeout = timeout
        self._context_window = context_window
        self._http = requests.Session()
        self._http.headers["Content-Type"] = "application/json"
        if api_key:
            self._http.headers["Authorization"] = f"Bearer {api_key}"
        self._queue = JobQueue(priority_burst)
        self._responses: dict[int, requests.Response] = {}  # job id -> its open stream
        self._lock = threading.Lock()
        self._workers = [threading.Thread(target=self._run, name=f"openai-stream-{n}", daemon=True)
                         for n in range(max(1, max_streams))]
        for worker in self._workers:
            worker.start()

    @property
    def context_window(self) -> int:
        return self._context_window

    def submit(self, prompt: str, params: GenerationParams, cache_key: str | None = None,
               priority: int = PRIORITY_NORMAL) -> Job:
        """Queue a generation; it starts once one of the `max_streams` requests is free. The
        server keeps its own caches: `cache_key` is not used."""
        job = Job(self.token_ids(prompt), params, cache_key)
        job.prompt = prompt
        self._queue.put(priority, job)
        return job

    def cancel(self, job: Job) -> None:
        job._cancelled.set()
        with self._lock:
            response = self._responses.get(job.id)
        if response is not None:
            _shut(response)  # unblocks the read in the job's thread; the server sees us leave

    def score_choices(self, prompt: str, choices: list[str], cache_key: str | None = None,
                      timeout: float | None = None,
                      priority: int = PRIORITY_NORMAL) -> list[float]:
        """Log-probability of each choice's first token right after `prompt`, from the server's
        top SCORING_LOGPROBS of one generated token; a choice outside them gets the lowest of
        those (its true value is at most that). Raises NotImplementedError if the server gives
        no logprobs, RemoteError/TimeoutError if it fails or is slow: the callers (the safety
        judge, the memory extractor) then keep their rule-based answer."""
        firsts = [self.token_ids(c)[:1] for c in choices]
        if not prompt or not all(firsts):
            raise ValueError("Scoring takes a prompt and non-empty choices.")
        wait = min(timeout, self.timeout) if timeout is not None else self.timeout
        body = {**self._body(prompt), "max_tokens": 1, "temperature": 0.0,
                "logprobs": SCORING_LOGPROBS}
        try:
            response = self._http.post(f"{self.base_url}/completions", json=body,
                                       timeout=(min(CONNECT_TIMEOUT, wait), wait))
        except requests.Timeout as exc:
            raise TimeoutError(f"{self.base_url} did not score within {wait:.1f} s") from exc
        except requests.RequestException as exc:
            raise RemoteError(f"cannot reach {self.base_url}: {exc}") from exc
        _raise_for_status(response, self.base_url)
        try:
            top = response.json()["choices"][0]["logprobs"]["top_logprobs"][0]
        except (ValueError, KeyError, IndexError, TypeError):
            top = None
        if not top:
            raise NotImplementedError(f"{self.base_url} gives no logprobs, so the remote model "
                                      "cannot score choices")
        floor = min(top.values())
        return [top.get(self.tokenizer.decode(first), floor) for first in firsts]

    def close(self) -> None:
        for _ in self._workers:
            self._queue.put(PRIORITY_CLOSE, None)
        with self._lock:
            responses = list(self._responses.values())
        for response in responses:
            _shut(response)
        for worker in self._workers:
            worker.join(timeout=5)
        self._http.close()

    # The streaming threads, from here on.

    def _run(self) -> None:
        while (job := self._queue.get()) is not None:
            if job.cancelled:
                job._finish(FINISH_CANCELLED)
                continue
            try:
                reason = self._generate(job)
            except Exception as exc:
                reason = FINISH_CANCELLED if job.cancelled else FINISH_ERROR
                if reason == FINISH_ERROR:
                    log.error("INFERENCE=openai: job %s failed: %s", job.id, exc)
                job._finish(reason, exc if reason == FINISH_ERROR else None)
            else:
                job._finish(reason)
            finally:
                with self._lock:
                    self._responses.pop(job.id, None)

    def _generate(self, job: Job) -> str:
        window = self.context_window
        if not 0 < len(job.prompt_ids) < window:
            raise ValueError(f"The prompt has {len(job.prompt_ids)} tokens; it must have between "
                             f"1 and {window - 1} (OPENAI_CONTEXT_TOKENS is {window}).")
        params = job.params
        stop = [s for s in params.stop if s]
        body = {**self._body(job.prompt), "stream": True,
                "max_tokens": max(1, min(params.max_new_tokens, window - len(job.prompt_ids))),
                "temperature": params.temperature, "top_p": params.top_p, "top_k": params.top_k,
                "repeat_penalty": params.repetition_penalty,
                "repetition_penalty": params.repetition_penalty}
        if stop:
            body["stop"] = stop
        if params.seed is not None:
            body["seed"] = params.seed
        try:
            response = self._http.post(f"{self.base_url}/completions", json=body, stream=True,
                                       timeout=(min(CONNECT_TIMEOUT, self.timeout), self.timeout))
        except requests.Timeout as exc:
            raise RemoteError(f"{self.base_url} did not answer within {self.timeout:.0f} s "
                              "(OPENAI_TIMEOUT_SECONDS)") from exc
        except requests.ConnectionError as exc:
            raise RemoteError(f"cannot reach {self.base_url} (OPENAI_BASE_URL): {exc}") from exc
        with response:
            with self._lock:
                self._responses[job.id] = response
            if job.cancelled:  # cancelled while connecting
                return FINISH_CANCELLED
            _raise_for_status(response, self.base_url)
            return self._read(job, response, StopStringStreamer(None, stop))

    def _read(self, job: Job, response: requests.Response, streamer: StopStringStreamer) -> str:
        finish, usage = None, None
        try:
            for data in _events(response):
                if job.cancelled:
                    return FINISH_CANCELLED
                if data == "[DONE]":
                    break
                event = json.loads(data)
                if "error" in event:
                    raise RemoteError(f"{self.base_url} failed mid-reply: {event['error']}")
                usage = event.get("usage") or usage
                choice = (event.get("choices") or [{}])[0]
                if text := choice.get("text"):
                    job.tokens_generated += 1  # one event a token, as vLLM and llama.cpp send
                    shown, hit_stop = streamer.push_text(text)
                    if shown:
                        job._emit(shown)
                    if hit_stop:  # closing the stream (on return) stops the server too
                        return FINISH_STOP
                finish = choice.get("finish_reason") or finish
        except requests.RequestException as exc:
            if job.cancelled:
                return FINISH_CANCELLED
            raise RemoteError(f"the stream from {self.base_url} broke off: {exc}") from exc
        if job.cancelled:
            return FINISH_CANCELLED
        if tail := streamer.flush():  # held back as a possible stop string's start: it was not
            job._emit(tail)
        if usage and usage.get("completion_tokens"):
            job.tokens_generated = int(usage["completion_tokens"])
        if finish not in FINISH_OF_SERVER:
            raise RemoteError(f"{self.base_url} ended the reply without finishing it "
                              f"(finish_reason {finish!r})")
        return FINISH_OF_SERVER[finish]

    def _body(self, prompt: str) -> dict:
        return {"model": self._model_name(), "prompt": prompt}

    def _model_name(self) -> str:
        """OPENAI_MODEL, or ("" ) the first model the server lists, asked once."""
        if not self.model:
            try:
                response = self._http.get(f"{self.base_url}/models",
                                          timeout=(CONNECT_TIMEOUT, self.timeout))
            except requests.RequestException as exc:
                raise RemoteError(f"cannot reach {self.base_url} (OPENAI_BASE_URL): {exc}") \
                    from exc
            _raise_for_status(response, self.base_url)
            try:
                self.model = response.json()["data"][0]["id"]
            except (ValueError, KeyError, IndexError, TypeError) as exc:
                raise RemoteError(f"{self.base_url}/models lists no model; set OPENAI_MODEL") \
                    from exc
        return self.model


def _events(response: requests.Response):
    """The `data:` fields of a server-sent event stream, one event each."""
    for line in response.iter_lines(chunk_size=None, decode_unicode=False):
        if line.startswith(b"data:"):
            yield line[5:].strip().decode("utf-8")


def _raise_for_status(response: requests.Response, base_url: str) -> None:
    if response.status_code >= 400:
        raise RemoteError(f"{base_url} answered HTTP {response.status_code}: "
                          f"{response.text[:ERROR_BODY_CHARS]}")


def _shut(response: requests.Response) -> None:
    """Shut the socket under `response`, which wakes a thread blocked reading it."""
    try:
        response.raw.shutdown()
    except Exception:  # already closed
        pass
