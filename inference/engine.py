"""The inference engine: one worker thread owns the model and serves all running jobs together.

Each turn of the worker prefills one chunk of a new prompt, then decodes one token for every job
that has one to feed, in a single batched forward (continuous batching). A job's KV cache is kept
after it ends under its `cache_key` (the conversation), so the next turn computes only the tokens
after the longest common prefix; kept caches are evicted least recently used past a memory budget.
"""
import itertools
import logging
import queue
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Protocol

import torch

from inference.hf_runner import TransformersRunner
from inference.kvcache import CacheStore, KVCache
from inference.llama import Llama, UnsupportedModel
from inference.loader import LoadedModel
from inference.native import load_or_none
from inference.quant import DENSE_ROWS
from inference.sampling import CANDIDATES, candidates_suffice, sample_next_token
from inference.scheduling import DEFAULT_BURST, PRIORITY_CLOSE, PRIORITY_NORMAL, JobQueue
from inference.streaming import StopStringStreamer
from inference.text import TokenizerText

log = logging.getLogger(__name__)

FINISH_STOP, FINISH_LENGTH, FINISH_CANCELLED, FINISH_ERROR = "stop", "length", "cancelled", "error"
# Only a remote engine (inference/redis_engine.py) ends a job so: its worker died and the job could
# not be continued, or no worker was alive to take it. The text so far, if any, was streamed.
FINISH_WORKER_LOST, FINISH_NO_WORKER = "worker_lost", "no_worker"
PREFILL_CHUNK = 512  # prompt tokens per worker turn, so running replies keep flowing meanwhile


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

    def __init__(self, prompt_ids: list[int], params: GenerationParams, cache_key: str | None = None):
        self.id = next(self._ids)
        self.prompt_ids = prompt_ids
        self.params = params
        self.cache_key = cache_key
        self.finish_reason: str | None = None
        self.error: BaseException | None = None
        self.tokens_generated = 0
        self.reused_tokens = 0  # prompt tokens found in the conversation's cache
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

    def submit(self, prompt: str, params: GenerationParams, cache_key: str | None = None,
               priority: int = PRIORITY_NORMAL) -> Job: ...
    def cancel(self, job: Job) -> None: ...
    def count_tokens(self, text: str) -> int: ...
    def render_chat(self, messages: list[dict]) -> str: ...
    def score_choices(self, prompt: str, choices: list[str], cache_key: str | None = None,
                      timeout: float | None = None,
                      priority: int = PRIORITY_NORMAL) -> list[float]: ...
    @property
    def context_window(self) -> int: ...


class LocalEngine(TokenizerText):
    """In-process engine. The app passes its settings (INFERENCE_QUANT, KV_CACHE_MB,
    INFERENCE_MAX_BATCH, NATIVE_DECODE, NATIVE_BUILD_DIR); the defaults are config.py's. Without
    a `native_build_dir` the decode step stays in Python."""

    def __init__(self, loaded: LoadedModel, threads: int = 1, quant: str = "int4",
                 kv_cache_mb: int = 512, max_batch: int = 16, native: bool = True,
                 native_build_dir: Path | None = None, priority_burst: int = DEFAULT_BURST):
        self.loaded = loaded
        self.model, self.tokenizer = loaded.model, loaded.tokenizer
        self.threads = threads
        self.quant = quant
        self.kv_cache_bytes = kv_cache_mb << 20
        self.max_batch = max_batch
        self.native = native and native_build_dir is not None
        self.native_build_dir = native_build_dir
        self.eos_ids = _eos_token_ids(loaded)
        self.runner: Llama | TransformersRunner | None = None
        self.caches: CacheStore | None = None
        self._queue = JobQueue(priority_burst)  # by priority, then first come first served
        self._ready: queue.Queue = queue.Queue()
        self._worker = threading.Thread(target=self._run, name="inference-worker", daemon=True)
        self._worker.start()
        if (error := self._ready.get()) is not None:
            raise error

    @property
    def context_window(self) -> int:
        return self.loaded.context_window

    def submit(self, prompt: str, params: GenerationParams, cache_key: str | None = None,
               priority: int = PRIORITY_NORMAL) -> Job:
        """Queue a generation. A PRIORITY_HIGH job (a plus member's reply) is admitted before
        normal ones, at most `priority_burst` in a row while a normal one waits; a PRIORITY_LOW
        job (community replies, the assistant's background work) only after every queued
        normal job (inference/scheduling.py)."""
        ids = self.token_ids(prompt)
        job = Job(ids, params, cache_key)
        self._put(priority, job)
        return job

    def enqueue(self, job: Job, priority: int = PRIORITY_NORMAL) -> Job:
        """Queue a Job the caller built (its prompt already tokenized), like submit."""
        self._put(priority, job)
        return job

    def cancel(self, job: Job) -> None:
        job._cancelled.set()

    def score_choices(self, prompt: str, choices: list[str], cache_key: str | None = None,
                      timeout: float | None = None,
                      priority: int = PRIORITY_NORMAL) -> list[float]:
        """Log-probability of each choice's first token right after `prompt`: one prefill on the
        worker thread, between decode steps (a prompt sharing a kept cache's prefix computes only
        the rest, at least DENSE_ROWS tokens). A PRIORITY_LOW request waits until every queued
        reply and normal request has been taken. Raises TimeoutError if the worker has not
        answered within `timeout` seconds (it is busy)."""
        ids = self.token_ids(prompt)
        firsts = [self.token_ids(c)[:1] for c in choices]
        if not 0 < len(ids) <= PREFILL_CHUNK or not all(firsts):
            raise ValueError(f"Scoring takes a prompt of 1 to {PREFILL_CHUNK} tokens (this one has "
                             f"{len(ids)}) and non-empty choices.")
        request = _Scoring(ids, [f[0] for f in firsts], cache_key)
        self._put(priority, request)
        if not request.done.wait(timeout):
            request._cancelled = True
            raise TimeoutError(f"the inference worker did not score within {timeout} s")
        if request.error is not None:
            raise request.error
        return request.scores

    def close(self) -> None:
        self._put(PRIORITY_CLOSE, None)  # after what is queued: those are cancelled below
        self._worker.join(timeout=10)

    def _put(self, priority: int, item) -> None:
        self._queue.put(priority, item)

    def _take(self, block: bool):
        return self._queue.get(block=block)

    # The worker thread, from here on.

    def _run(self) -> None:
        # All torch work happens on this thread, quantisation included: OpenMP stops spin-waiting
        # (and decode runs ~1.7x slower) once a second thread owns a team of OpenMP threads.
        torch.set_num_threads(self.threads)
        try:
            self.runner = self._runner()
            self.caches = CacheStore(self.runner.new_cache, self.kv_cache_bytes)
        except Exception as exc:
            return self._ready.put(exc)
        self._ready.put(None)
        running: list[_Sequence] = []
        while self._admit(running):
            self._step(running)
            running = [seq for seq in running if not seq.finished]
        for seq in running:
            self._end(seq, FINISH_CANCELLED)
        while not self._queue.empty():
            if (job := self._take(block=False)) is not None:
                job._finish(FINISH_CANCELLED)

    def _runner(self) -> "Llama | TransformersRunner":
        """The fast engine for the architectures it knows (inference/llama.py), else the model's
        own transformers forward (inference/hf_runner.py); the log says which runs."""
        model_type = getattr(self.model.config, "model_type", "?")
        try:
            Llama.check(self.model)
            decode_step = (load_or_none(self.native_build_dir)
                           if self.native and self.quant != "none" else None)
            runner = Llama(self.model, self.quant, decode_step)
        except UnsupportedModel as exc:  # raised before the model's weights are touched
            log.warning("%s Running %r through transformers' own forward: correct, but slower, "
                        "and unquantised (INFERENCE_QUANT=%s does not apply).",
                        exc, model_type, self.quant)
            return TransformersRunner(self.model)
        log.info("Running %r on the fast engine (quant %s, decode step in %s)", model_type,
                 self.quant, "C++" if runner.native is not None else "Python")
        return runner

    def _admit(self, running: list["_Sequence"]) -> bool:
        """Start queued jobs while there is room, waiting if nothing runs; False once closed."""
        while len(running) < self.max_batch:
            try:
                job = self._take(block=not running)
            except queue.Empty:
                break
            if job is None:
                return False
            if job.cancelled:
                job._finish(FINISH_CANCELLED)
                continue
            if isinstance(job, _Scoring):
                self._score(job)
                if running:
                    break  # one scoring prefill per turn while replies are decoding
                continue
            try:
                running.append(self._start(job))
            except Exception as exc:
                log.exception("could not start job %s", job.id)
                job._finish(FINISH_ERROR, exc)
        return True

    def _start(self, job: Job) -> "_Sequence":
        ids, window = job.prompt_ids, self.context_window
        if not 0 < len(ids) < window:
            raise ValueError(f"The prompt has {len(ids)} tokens; it must have between 1 and "
                             f"{window - 1} (the model's context window is {window}).")
        return _Sequence(job, StopStringStreamer(self.tokenizer, job.params.stop))

    def _score(self, request: "_Scoring") -> None:
        cache = None
        try:
            with torch.inference_mode():
                ids = request.ids
                cache, reused = self.caches.take(request.cache_key, ids, len(ids))
                # at least DENSE_ROWS rows: scores come from the prefill arithmetic, the same
                # whatever was cached before and whatever the decode kernels do
                reused = min(reused, max(len(ids) - DENSE_ROWS, 0))
                del cache.ids[reused:]
                hidden = self.runner.forward(ids[reused:], [(cache, len(ids) - reused)])
                logprobs = torch.log_softmax(self.runner.logits(hidden)[0], dim=-1)
            request._finish(None, [logprobs[i].item() for i in request.choice_ids])
        except Exception as exc:
            log.exception("scoring failed")
            request._finish(FINISH_ERROR, error=exc)
        finally:
            if cache is not None:
                self.caches.give_back(request.cache_key, cache, keep=request.error is None)

    def _step(self, running: list["_Sequence"]) -> None:
        for seq in running:
            if seq.job.cancelled:
                self._end(seq, FINISH_CANCELLED)
        if filling := next((s for s in running if s.pending and not s.finished), None):
            self._guarded([filling], self._prefill_chunk)
        if ready := [s for s in running if s.next_token is not None and not s.finished]:
            self._guarded(ready, self._decode)

    def _guarded(self, batch: list["_Sequence"], work) -> None:
        try:
            with torch.inference_mode():
                work(batch)
        except Exception as exc:  # the worker must survive any failure; its caches are suspect
            log.exception("generation failed for jobs %s", [s.job.id for s in batch])
            for seq in batch:
                self._end(seq, FINISH_ERROR, exc)

    def _prefill_chunk(self, batch: list["_Sequence"]) -> None:
        seq, = batch
        if seq.cache is None:  # taken only now, so prompts prefilled before can lend their prefix
            job = seq.job
            capacity = min(len(job.prompt_ids) + max(job.params.max_new_tokens, 1),
                           self.context_window)
            seq.cache, job.reused_tokens = self.caches.take(job.cache_key, job.prompt_ids, capacity)
            seq.pending = job.prompt_ids[job.reused_tokens:]
        chunk, seq.pending = seq.pending[:PREFILL_CHUNK], seq.pending[PREFILL_CHUNK:]
        hidden = self.runner.forward(chunk, [(seq.cache, len(chunk))])
        if not seq.pending:
            self._sample(batch, hidden)

    def _decode(self, batch: list["_Sequence"]) -> None:
        self._sample(batch, self.runner.forward([s.next_token for s in batch],
                                                [(s.cache, 1) for s in batch]))

    def _sample(self, batch: list["_Sequence"], hidden: torch.Tensor) -> None:
        """Logits of the best CANDIDATES tokens when every job's settings allow, else of all."""
        if all(candidates_suffice(s.job.params) for s in batch):
            ids, logits = self.runner.top_logits(hidden, CANDIDATES)
        else:
            ids, logits = [None] * len(batch), self.runner.logits(hidden)
        for seq, row_ids, row in zip(batch, ids, logits):
            self._accept(seq, row, row_ids)

    def _accept(self, seq: "_Sequence", logits: torch.Tensor, ids: torch.Tensor | None) -> None:
        """Sample the next token and stream it, or end the job."""
        job, params = seq.job, seq.job.params
        seq.next_token = None
        if job.cancelled:
            return self._end(seq, FINISH_CANCELLED)
        if job.tokens_generated >= params.max_new_tokens:
            return self._end(seq, FINISH_LENGTH)
        token = sample_next_token(logits, seq.seen[:seq.seen_count], params, seq.generator, ids)
        if token in self.eos_ids:
            return self._end(seq, FINISH_STOP)
        job.tokens_generated += 1
        text, hit_stop = seq.streamer.push(token)
        if text:
            job._emit(text)
        if hit_stop:
            return self._end(seq, FINISH_STOP)
        if job.tokens_generated >= params.max_new_tokens or seq.cache.length >= self.context_window:
            return self._end(seq, FINISH_LENGTH)
        seq.see(token)

    def _end(self, seq: "_Sequence", reason: str, error: BaseException | None = None) -> None:
        if seq.finished:
            return
        seq.finished = True
        if reason != FINISH_ERROR and (tail := seq.streamer.flush()):
            seq.job._emit(tail)
        if seq.cache is not None:
            self.caches.give_back(seq.job.cache_key, seq.cache, keep=reason != FINISH_ERROR)
        seq.job._finish(reason, error)


class _Scoring:
    """A score_choices request waiting for the worker; duck-types as a Job in the queue."""

    def __init__(self, ids: list[int], choice_ids: list[int], cache_key: str | None):
        self.ids, self.choice_ids, self.cache_key = ids, choice_ids, cache_key
        self.scores: list[float] = []
        self.error: BaseException | None = None
        self.done = threading.Event()
        self._cancelled = False  # the caller stopped waiting

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def _finish(self, reason: str | None, scores: list[float] | None = None,
                error: BaseException | None = None) -> None:
        if reason == FINISH_CANCELLED:
            error = RuntimeError("the inference engine closed before scoring")
        self.scores, self.error = scores or [], error
        self.done.set()


class _Sequence:
    """A running job inside the worker: its cache, the prompt still to compute, the next token."""

    def __init__(self, job: Job, streamer: StopStringStreamer):
        self.job, self.streamer = job, streamer
        self.cache: KVCache | None = None  # taken at the first prefill chunk
        self.pending = job.prompt_ids  # prompt tokens still to compute
        self.next_token: int | None = None  # sampled and streamed, not yet fed to the model
        self.finished = False
        seed = job.params.seed
        self.generator = torch.Generator().manual_seed(seed) if seed is not None else None
        ids = job.prompt_ids
        self.seen = torch.empty(len(ids) + max(job.params.max_new_tokens, 0), dtype=torch.long)
        self.seen[:len(ids)] = torch.tensor(ids)
        self.seen_count = len(ids)

    def see(self, token: int) -> None:
        self.seen[self.seen_count] = token
        self.seen_count += 1
        self.next_token = token


def _eos_token_ids(loaded: LoadedModel) -> set[int]:
    ids = set()
    for source in (loaded.tokenizer.eos_token_id, loaded.model.generation_config.eos_token_id):
        ids.update(source if isinstance(source, list) else [source] if source is not None else [])
    for token in ("<|im_end|>", "<|eot_id|>", "<|endoftext|>"):
        token_id = loaded.tokenizer.convert_tokens_to_ids(token)
        if isinstance(token_id, int) and token_id != loaded.tokenizer.unk_token_id:
            ids.add(token_id)
    return ids
