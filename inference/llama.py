"""A lean Llama forward over the Hugging Face model's weights, in the manner of gpt-fast.

One call runs any mix of sequences: a prefill chunk of one conversation, or one new token for each
of several (batched decode). Rows of the activations are tokens; `segments` says which rows belong
to which KV cache. The matmuls run once for all rows; attention runs per sequence over its own cache.
"""
import torch
import torch.nn.functional as F

from inference.kvcache import KVCache
from inference.loader import ModelLoadError
from inference.quant import DENSE_ROWS, INT4_GROUP, Linear, activation_dtype, dense_dtype

Segment = tuple[KVCache, int]  # (cache the rows extend, number of rows)


class UnsupportedModel(ModelLoadError):
    pass


class Llama:
    @torch.no_grad()  # not inference_mode: the model's weights stay usable by its own generate()
    def __init__(self, hf_model, quant: str = "none", native=None):
        """`native`: the C++ decode step (inference/native.py) for decode steps on the packed
        weights; None computes them here."""
        config = hf_model.config
        _check_supported(hf_model)
        self.quant, self.dtype = quant, activation_dtype(quant)
        self.n_heads, self.n_kv_heads = config.num_attention_heads, config.num_key_value_heads
        self.head_dim = getattr(config, "head_dim", None) or config.hidden_size // self.n_heads
        self.eps, self.hidden = config.rms_norm_eps, (config.hidden_size,)
        self.root_eps = torch.tensor((config.hidden_size * config.rms_norm_eps) ** 0.5)
        self.max_positions = config.max_position_embeddings
        inner = hf_model.model
        self.embed = inner.embed_tokens.weight
        self.layers = [_Layer(layer, quant, self.dtype) for layer in inner.layers]
        self.norm = inner.norm.weight.to(self.dtype)
        # The output layer is 8-bit under int4 too, as in the GGUF (Q8_0): at 4 bits it alone costs
        # about 5% perplexity. A 4-bit copy, half the bytes to read, picks the candidates that
        # sampling looks at (see top_logits).
        self.lm_head = Linear([hf_model.lm_head.weight], "none" if quant == "none" else "int8")
        self.draft_head = Linear([hf_model.lm_head.weight], "int4") if quant != "none" else None
        positions = torch.arange(self.max_positions)[None]  # the model's own rotary tables,
        cos, sin = inner.rotary_emb(self.embed[:1].float(), positions)  # so any rope scaling holds
        half = self.head_dim // 2
        self.cos = cos[0].contiguous()
        # rotate_half(x) * sin == x.roll(half) * [-sin_low, sin_high]
        self.sin = torch.cat([-sin[0, :, :half], sin[0, :, half:]], dim=-1)
        if dense_dtype(quant) != torch.float32:  # packed from fp32 above (see quant)
            hf_model.to(dense_dtype(quant))
        # Quantised engines keep keys and values in fp16 (as llama.cpp does): half the memory per
        # conversation and half the bytes decode attention reads. Attention itself runs in fp32
        # (on the CPU it is several times slower in bf16 or fp16).
        self.cache_dtype = torch.float32 if quant == "none" else torch.float16
        self.native = native if quant != "none" else None
        if self.native is not None:
            self.native_weights = [t for layer in self.layers for t in layer.native_weights()]

    def new_cache(self, capacity: int) -> KVCache:
        return KVCache(len(self.layers), self.n_kv_heads, self.head_dim, capacity, self.cache_dtype)

    @torch.inference_mode()
    def forward(self, tokens: list[int], segments: list[Segment], all_rows: bool = False):
        """Append `tokens` to the caches (in segment order); return the final hidden state of each
        segment's last row, [len(segments), hidden], or of every row with `all_rows`."""
        x = F.embedding(torch.tensor(tokens), self.embed).float()
        if self.native is not None and len(tokens) == len(segments) < DENSE_ROWS:
            x = self.native.decode_layers(
                x, [cache.length for cache, _ in segments], self.cos, self.sin, self.native_weights,
                [cache.k for cache, _ in segments], [cache.v for cache, _ in segments],
                self.n_heads, self.n_kv_heads, self.root_eps.item(), INT4_GROUP)
        else:
            positions = torch.tensor([c.length + i for c, n in segments for i in range(n)])
            cos, sin = self.cos[positions].unsqueeze(1), self.sin[positions].unsqueeze(1)
            for index, layer in enumerate(self.layers):
                x = layer(x, index, cos, sin, segments, self)
        row = 0
        for cache, count in segments:
            cache.ids.extend(tokens[row:row + count])
            row += count
        if not all_rows and len(tokens) > len(segments):
            x = x[torch.tensor([n for _, n in segments]).cumsum(0) - 1]
        return self.rms_norm(x, self.norm)

    @torch.inference_mode()
    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """[rows, vocab] in fp32."""
        return self.lm_head(hidden).float()

    @torch.inference_mode()
    def top_logits(self, hidden: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(token ids, their logits), [rows, k] each: the k best by the 4-bit output layer, scored
        exactly by the 8-bit one. Without a 4-bit copy (quant none): the top k of the full logits."""
        if self.draft_head is None or hidden.shape[0] >= DENSE_ROWS:
            logits, ids = self.logits(hidden).topk(k, dim=-1)
            return ids, logits
        ids = self.draft_head(hidden).topk(k, dim=-1).indices
        return ids, self.lm_head.packed.select(hidden, ids)

    def rms_norm(self, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        """As Hugging Face's LlamaRMSNorm: in fp32, then cast to the activation type."""
        return weight * F.rms_norm(x, self.hidden, eps=self.eps).to(self.dtype)

    def norm_linear(self, x: torch.Tensor, weight: torch.Tensor, unit_weight: torch.Tensor,
                    linear: Linear) -> torch.Tensor:
        """linear(rms_norm(x, weight)). For the packed weights of a decode step, the same norm as
        x * weight * sqrt(n) / sqrt(||x||^2 + n * eps) (`unit_weight` = weight * sqrt(n)): four
        kernels instead of F.rms_norm's ten or so on the CPU, about 5% of a decode step."""
        if linear.packed is None or x.shape[0] >= DENSE_ROWS:
            return linear(self.rms_norm(x, weight))
        norm = torch.hypot(torch.linalg.vector_norm(x, dim=-1, keepdim=True), self.root_eps)
        return linear.packed(torch.div(x * unit_weight, norm,
                                       out=torch.empty(x.shape, dtype=self.dtype)))


class _Layer:
    def __init__(self, layer, quant: str, dtype: torch.dtype):
        attn, mlp = layer.self_attn, layer.mlp
        self.attn_norm = layer.input_layernorm.weight.to(dtype)
        self.mlp_norm = layer.post_attention_layernorm.weight.to(dtype)
        root = len(self.attn_norm) ** 0.5  # for Llama.norm_linear
        self.attn_unit_norm = layer.input_layernorm.weight.float() * root
        self.mlp_unit_norm = layer.post_attention_layernorm.weight.float() * root
        self.qkv = Linear([attn.q_proj.weight, attn.k_proj.weight, attn.v_proj.weight], quant)
        self.o = Linear([attn.o_proj.weight], quant)
        self.gate_up = Linear([mlp.gate_proj.weight, mlp.up_proj.weight], quant)
        self.down = Linear([mlp.down_proj.weight], quant)

    def native_weights(self) -> list[torch.Tensor]:
        """In the order csrc/decode.cpp reads them."""
        return [self.attn_unit_norm, *self.qkv.packed.tensors, *self.o.packed.tensors,
                self.mlp_unit_norm, *self.gate_up.packed.tensors, *self.down.packed.tensors]

    def __call__(self, x, index: int, cos, sin, segments: list[Segment], model: Llama):
        heads, kv_heads, dim = model.n_heads, model.n_kv_heads, model.head_dim
        qkv = model.norm_linear(x, self.attn_norm, self.attn_unit_norm, self.qkv)
        qkv = qkv.float().view(x.shape[0], -1, dim)
        qk, v = qkv.split([heads + kv_heads, kv_heads], dim=1)
        qk = torch.addcmul(qk * cos, qk.roll(dim // 2, -1), sin)  # rotary embedding, q and k at once
        q, k = qk.split([heads, kv_heads], dim=1)
        x = x + self.o(_attend(q, k, v, index, segments).to(model.dtype))
        gate, up = model.norm_linear(x, self.mlp_norm, self.mlp_unit_norm, self.gate_up).chunk(2, 1)
        return x + self.down(F.silu(gate) * up)


def _attend(q, k, v, index: int, segments: list[Segment]) -> torch.Tensor:
    """Write each sequence's new keys/values into its cache, attend over everything it holds.
    q: [rows, heads, dim]; k, v: [rows, kv_heads, dim]; returns [rows, heads * dim]."""
    outs, row = [], 0
    for cache, count in segments:
        start, end = cache.length, cache.length + count
        keys, values = cache.layer_k[index], cache.layer_v[index]  # [1, kv_heads, capacity, dim]
        rows = slice(row, row + count)
        qs, ks, vs = (q, k, v) if len(segments) == 1 else (q[rows], k[rows], v[rows])
        if count == 1:  # decode: one new position, attending to every one before it
            keys[:, :, start], values[:, :, start] = ks, vs
            out = F.scaled_dot_product_attention(qs.unsqueeze(2), keys[:, :, :end].to(qs.dtype),
                                                 values[:, :, :end].to(qs.dtype), enable_gqa=True)
            outs.append(out.view(1, -1))
        else:
            keys[0, :, start:end], values[0, :, start:end] = ks.transpose(0, 1), vs.transpose(0, 1)
            # after a cached prefix, row i sees positions up to start + i
            mask = None if start == 0 else torch.ones(count, end, dtype=torch.bool).tril(start)
            out = F.scaled_dot_product_attention(qs.transpose(0, 1).unsqueeze(0),
                                                 keys[:, :, :end].to(qs.dtype),
                                                 values[:, :, :end].to(qs.dtype), attn_mask=mask,
                                                 is_causal=start == 0, enable_gqa=True)
            outs.append(out[0].transpose(0, 1).reshape(count, -1))
        row += count
    return outs[0] if len(outs) == 1 else torch.cat(outs)


def _check_supported(hf_model) -> None:
    config = hf_model.config
    inner = getattr(hf_model, "model", None)
    if (getattr(config, "model_type", None) not in ("llama", "mistral")
            or getattr(config, "attention_bias", False) or getattr(config, "mlp_bias", False)
            or getattr(config, "hidden_act", "silu") != "silu"
            or getattr(config, "sliding_window", None) or inner is None):
        raise UnsupportedModel(
            f"Kindred's engine runs Llama-architecture models (SmolLM, Llama, Mistral without "
            f"sliding window); this one is {getattr(config, 'model_type', '?')!r}.")
