"""A tiny random-weight Qwen2 written as a GGUF file (F32 tensors under llama.cpp's names, its
folder's byte-level BPE tokenizer under llama.cpp's tokenizer keys, as the packaged SmolLM2 GGUF
stores its own), for the loader's GGUF path on a non-Llama architecture. `qtype` F32 or a type
to mark its tensors with (Q8_1: one the gguf package cannot de-quantise)."""
import json
from pathlib import Path

import gguf
import numpy as np
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

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
    _add_tokenizer(writer, AutoTokenizer.from_pretrained(hf_folder))
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


def _add_tokenizer(writer: gguf.GGUFWriter, tokenizer) -> None:
    """The keys SmolLM2's GGUF has: a byte-level BPE ("gpt2") vocabulary with its merges, the
    special tokens marked as control tokens, their ids, no BOS added, the chat template."""
    vocab = tokenizer.backend_tokenizer.to_str()
    merges = json.loads(vocab)["model"]["merges"]
    tokens = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
    special = set(tokenizer.all_special_tokens)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("smollm")
    writer.add_token_list(tokens)
    writer.add_token_types([gguf.TokenType.CONTROL if t in special else gguf.TokenType.NORMAL
                            for t in tokens])
    writer.add_token_merges([m if isinstance(m, str) else " ".join(m) for m in merges])
    writer.add_bos_token_id(tokenizer.bos_token_id)
    writer.add_eos_token_id(tokenizer.eos_token_id)
    writer.add_unk_token_id(tokenizer.unk_token_id)
    writer.add_pad_token_id(tokenizer.pad_token_id)
    writer.add_add_bos_token(False)
    writer.add_add_space_prefix(False)
    writer.add_chat_template(tokenizer.chat_template)
