"""A tiny random-weight Llama with SmolLM2's real tokenizer, saved as a normal HF model folder."""
from pathlib import Path

import torch
from transformers import LlamaConfig, LlamaForCausalLM

from tests.support.smollm2 import smollm2_tokenizer


def build(folder: Path) -> Path:
    tokenizer = smollm2_tokenizer()
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=8192, tie_word_embeddings=True,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id)
    torch.manual_seed(0)
    model = LlamaForCausalLM(config)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
