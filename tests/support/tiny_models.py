"""Tiny random-weight models of each architecture the engine runs, with SmolLM2's tokenizer,
saved as normal HF model folders (tests/support/tiny_llama.py is the Llama one the app uses).

Norm weights are randomised too (they start as ones or zeros), so a norm computed the wrong way
changes the outputs; sliding windows are 8 tokens, so prompts outrun them."""
from functools import lru_cache
from pathlib import Path

import torch
import transformers

from tests.support.smollm2 import smollm2_tokenizer

SMALL = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
             num_key_value_heads=2, max_position_embeddings=2048, tie_word_embeddings=True)
WINDOW = 8
ARCHITECTURES = {
    "llama": ("LlamaConfig", "LlamaForCausalLM", {}),
    "mistral": ("MistralConfig", "MistralForCausalLM", {"sliding_window": WINDOW}),
    "qwen2": ("Qwen2Config", "Qwen2ForCausalLM", {}),
    "qwen2-sliding": ("Qwen2Config", "Qwen2ForCausalLM",
                      {"use_sliding_window": True, "sliding_window": WINDOW,
                       "max_window_layers": 1}),
    "qwen3": ("Qwen3Config", "Qwen3ForCausalLM", {"head_dim": 16}),
    "gemma2": ("Gemma2Config", "Gemma2ForCausalLM",
               {"head_dim": 16, "sliding_window": WINDOW, "query_pre_attn_scalar": 24,
                "attn_logit_softcapping": 5.0, "final_logit_softcapping": 3.0}),
    "gemma3": ("Gemma3TextConfig", "Gemma3ForCausalLM",
               {"head_dim": 16, "sliding_window": WINDOW, "query_pre_attn_scalar": 24,
                "layer_types": ["sliding_attention", "full_attention"]}),
    # not in the fast engine: the transformers runner's
    "phi3": ("Phi3Config", "Phi3ForCausalLM", {"pad_token_id": 0}),
    "gpt2": ("GPT2Config", "GPT2LMHeadModel", {}),
}
FAST = ("llama", "mistral", "qwen2", "qwen2-sliding", "qwen3", "gemma2", "gemma3")


@lru_cache(maxsize=1)
def tokenizer():
    """Once per test process; callers only read it."""
    return smollm2_tokenizer()


def build(name: str, folder: Path, tok=None, initializer_range: float = 0.1) -> Path:
    """Weights of std `initializer_range`: 0.1 (5x the usual) gives peaked, varied greedy
    replies; 0.02 logits closer to what a trained model's quantisation error does to them."""
    tok = tok or tokenizer()
    config_name, model_name, extra = ARCHITECTURES[name]
    ids = dict(vocab_size=len(tok), bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id)
    if name == "gpt2":
        sizes = dict(n_embd=64, n_layer=2, n_head=4, n_positions=2048,
                     n_inner=128)
    else:
        sizes = SMALL
    config = getattr(transformers, config_name)(**sizes, **ids, **extra,
                                                initializer_range=initializer_range)
    torch.manual_seed(0)
    model = getattr(transformers, model_name)(config)
    with torch.no_grad():
        for module_name, parameter in model.named_parameters():
            if "norm" in module_name or "bias" in module_name:
                parameter.add_(torch.randn_like(parameter) * 0.2)
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder
