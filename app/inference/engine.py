"""The inference engine: one worker thread owns the model; jobs queue to it and stream text back."""
import itertools
import logging
import queue
import threading
from dataclasses import dataclass, field
from typing import Iterator, Protocol

import torch
from transformers import DynamicCache

from app.inference.loader import LoadedModel
from app.inference.sampling import sample_next_token
from app.inference.streaming import StopStringStreamer

log = logging.getLogger(__name__)

FINISH_STOP, FINISH_LENGTH, FINISH_CANCELLED, FINISH_ERROR = "stop", "length", "cancelled", "error"


@dataclass
class GenerationParams:
    max_new_tokens: int = 200
    temperature: float = 0.7
    top_p: float = 0.9
    top_k: int = 40
    repetition_penalty: float = 1.1
    stop: list[str] = field(default_factory=list)
    seed: int | None = None


class Job:
    """One generation request: iterate it to receive text chunks as they are produced."""

    _ids = itertools.count(1)
    _END = object()

    def __init__(self, prompt_ids: list[int], params: GenerationParams):
        self.id = next(self._ids)
        self.prompt_ids = prompt_ids
        self.params = params
        self.finish_reason: str | None = None
        self.error: BaseException | None = None
        self.tokens_generated = 0
        self._cancelled = threading.Event()
        self._chunks: queue.Queue = queue.Queue()
        self._done = threading.Event()

    def __iter__(self) -> Iterator[str]:
        while (chunk := self._chunks.get()) is not self._END:
            yield chunk

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    def _emit(self, text: str) -> None:
        self._chunks.put(text)

    def _finish(self, reason: str, error: BaseException | None = None) -> None:
        self.finish_reason, self.error = reason, error
        self._chunks.put(self._END)
        self._done.set()


class InferenceEngine(Protocol):
    """What the chat service needs; a remote worker pool can implement the same."""

    def submit(self, prompt: str, params: GenerationParams) -> Job: ...
    def cancel(self, job: Job) -> None: ...
    def count_tokens(self, text: str) -> int: ...
    def render_chat(self, messages: list[dict]) -> str: ...
    @property
    def context_window(self) -> int: ...


class LocalEngine:
    """In-process engine: a queue of jobs served one at a time by the thread that owns the model."""

    def __init__(self, loaded: LoadedModel, threads: int = 1):
        self.loaded = loaded
        self.model, self.tokenizer = loaded.model, loaded.tokenizer
        self.threads = threads
        self.eos_ids = _eos_token_ids(loaded)
        self._queue: queue.Queue = queue.Queue()
        self._worker = threading.Thread(target=self._run, name="inference-worker", daemon=True)
        self._worker.start()

    @property
    def context_window(self) -> int:
        return self.loaded.context_window

    def submit(self, prompt: str, params: GenerationParams) -> Job:
        ids = self.tokenizer(prompt, add_special_tokens=False)["input_ids"]
        job = Job(ids, params)
        self._queue.put(job)
        return job

    def cancel(self, job: Job) -> None:
        job._cancelled.set()

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def render_chat(self, messages: list[dict]) -> str:
        return self.tokenizer.apply_chat_template(messages, tokenize=False,
                                                  add_generation_prompt=True)

    def close(self) -> None:
        self._queue.put(None)
        self._worker.join(timeout=10)

    def _run(self) -> None:
        torch.set_num_threads(self.threads)
        while (job := self._queue.get()) is not None:
            if job.cancelled:
                job._finish(FINISH_CANCELLED)
                continue
            try:
                job._finish(self._generate(job))
            except Exception as exc:  # the worker must survive any one job's failure
                log.exception("generation failed for job %s", job.id)
                job._finish(FINISH_ERROR, exc)

    @torch.inference_mode()
    def _generate(self, job: Job) -> str:
        params = job.params
        streamer = StopStringStreamer(self.tokenizer, params.stop)
        generator = torch.Generator().manual_seed(params.seed) if params.seed is not None else None
        cache = DynamicCache()
        seen = torch.tensor(job.prompt_ids, dtype=torch.long)
        logits = self._forward(job.prompt_ids, cache)
        for _ in range(params.max_new_tokens):
            if job.cancelled:
                return self._flush(job, streamer, FINISH_CANCELLED)
            token = sample_next_token(logits, seen, params, generator)
            if token in self.eos_ids:
                return self._flush(job, streamer, FINISH_STOP)
            job.tokens_generated += 1
            text, hit_stop = streamer.push(token)
            if text:
                job._emit(text)
            if hit_stop:
                return FINISH_STOP
            seen = torch.cat([seen, torch.tensor([token])])
            logits = self._forward([token], cache)
        return self._flush(job, streamer, FINISH_LENGTH)

    def _forward(self, ids: list[int], cache: DynamicCache) -> torch.Tensor:
        out = self.model(input_ids=torch.tensor([ids]), cache=cache, use_cache=True, logits_to_keep=1)
        return out.logits[0, -1]

    @staticmethod
    def _flush(job: Job, streamer: StopStringStreamer, reason: str) -> str:
        if tail := streamer.flush():
            job._emit(tail)
        return reason


def _eos_token_ids(loaded: LoadedModel) -> set[int]:
    ids = set()
    for source in (loaded.tokenizer.eos_token_id, loaded.model.generation_config.eos_token_id):
        ids.update(source if isinstance(source, list) else [source] if source is not None else [])
    for token in ("<|im_end|>", "<|eot_id|>", "<|endoftext|>"):
        token_id = loaded.tokenizer.convert_tokens_to_ids(token)
        if isinstance(token_id, int) and token_id != loaded.tokenizer.unk_token_id:
            ids.add(token_id)
    return ids
