"""A tiny random-weight Qwen2 written as a GGUF file (F32 tensors under llama.cpp's names, the
tokenizer copied from the packaged SmolLM2 GGUF), for the loader's GGUF path on a non-Llama
architecture. `qtype` F32 or a type to mark its tensors with (Q8_1: one the gguf package cannot
de-quantise)."""
from pathlib import Path

import gguf
import numpy as np
import torch
from transformers import AutoModelForCausalLM

from inference.loader import packaged_gguf_path

NAMES = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight"}
LAYER = {"input_layernorm.weight": "attn_norm.weight", "post_attention_layernorm.weight":
         "ffn_norm.weight", "self_attn.o_proj.weight": "attn_output.weight",
         "mlp.gate_proj.weight": "ffn_gate.weight", "mlp.up_proj.weight": "ffn_up.weight",
         "mlp.down_proj.weight": "ffn_down.weight",
         **{f"self_attn.{x}_proj.{kind}": f"attn_{x}.{kind}" for x in "qkv"
            for kind in ("weight", "bias")}}


def write(hf_folder: Path, target: Path, qtype: str = "F32") -> Path:
    model = AutoModelForCausalLM.from_pretrained(hf_folder, dtype=torch.float32)
    config = model.config
    writer = gguf.GGUFWriter(str(target), "qwen2")
    writer.add_context_length(config.max_position_embeddings)
    writer.add_embedding_length(config.hidden_size)
    writer.add_block_count(config.num_hidden_layers)
    writer.add_feed_forward_length(config.intermediate_size)
    writer.add_head_count(config.num_attention_heads)
    writer.add_head_count_kv(config.num_key_value_heads)
    writer.add_rope_freq_base(float(config.rope_parameters["rope_theta"]))
    writer.add_layer_norm_rms_eps(config.rms_norm_eps)
    source = gguf.GGUFReader(str(packaged_gguf_path()))
    for name, field in source.fields.items():
        if name.startswith("tokenizer."):
            value = field.contents()
            sub = field.types[1] if field.types[0] == gguf.GGUFValueType.ARRAY else None
            writer.add_key_value(name, value, field.types[0], sub_type=sub)
    for name, tensor in model.state_dict().items():
        if name == "lm_head.weight":
            continue  # tied to the embeddings
        if name.startswith("model.layers."):
            index, rest = name[len("model.layers."):].split(".", 1)
            gguf_name = f"blk.{index}.{LAYER[rest]}"
        else:
            gguf_name = NAMES[name]
        data = tensor.numpy().astype(np.float32)
        if qtype == "F32":
            writer.add_tensor(gguf_name, data)
        else:  # bytes of the right size marked with a type the reader cannot de-quantise
            kind = gguf.GGMLQuantizationType[qtype]
            block, size = gguf.GGML_QUANT_SIZES[kind]
            if data.ndim != 2 or data.shape[1] % block:
                writer.add_tensor(gguf_name, data)
            else:  # raw_shape: bytes per row
                raw = np.zeros((data.shape[0], data.shape[1] // block * size), dtype=np.uint8)
                writer.add_tensor(gguf_name, raw, raw_shape=raw.shape, raw_dtype=kind)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return target
