"""SmolLM2's real tokenizer for the tiny random-weight models, without reading it out of the GGUF
in every test process (about 20 s each time): `make setup` keeps a safetensors copy of the
packaged GGUF, tokenizer.json included, which the app itself loads (inference/loader.py)."""
from transformers import AutoTokenizer

from config import Config
from inference.loader import _cached_copy_of, packaged_gguf_path


def smollm2_tokenizer():
    gguf = packaged_gguf_path()
    copy = _cached_copy_of(gguf, Config.MODEL_CACHE_DIR)
    if (copy / "tokenizer.json").exists():
        return AutoTokenizer.from_pretrained(copy)
    return AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
