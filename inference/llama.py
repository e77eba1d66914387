"""A lean Llama-family forward over the Hugging Face model's weights, in the manner of gpt-fast.

It covers Llama, Mistral (sliding window included), Qwen2/2.5, Qwen3 and Gemma 2/3 by their
features rather than by name: q/k/v and output biases, q/k norms, per-layer sliding windows,
Gemma's (1 + w) RMS norm, scaled embeddings, norms after attention and after the MLP, any
Hugging Face activation (GeGLU), attention and final logit soft-capping, the attention scale
(query_pre_attn_scalar) and per-layer rotary tables (Gemma 3's local base). Anything else raises
UnsupportedModel, and the engine runs the model through inference/hf_runner.py instead.

One call runs any mix of sequences: a prefill chunk of one conversation, or one new token for each
of several (batched decode). Rows of the activations are tokens; `segments` says which rows belong
to which KV cache. The matmuls run once for all rows; attention runs per sequence over its own cache.
"""
import inspect
import logging

import torch
import torch.nn.functional as F

from inference.kvcache import KVCache
from inference.loader import ModelLoadError
from inference.quant import DENSE_ROWS, INT4_GROUP, Linear, activation_dtype, dense_dtype

log = logging.getLogger(__name__)

# model_type values the fast path takes (if their layers also have the shapes it knows)
FAST_TYPES = ("llama", "mistral", "qwen2", "qwen3", "gemma2", "gemma3_text")

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
        scale = getattr(inner.embed_tokens, "embed_scale", None)  # Gemma: sqrt(hidden)
        self.embed_scale = None if scale is None else float(scale)
        self.final_softcap = getattr(config, "final_logit_softcapping", None)
        self.norm = _norm_weight(inner.norm, self.hidden[0]).to(self.dtype)
        self.tables = self._rotary_tables(hf_model, inner)
        self.layers = [_Layer(layer, config, quant, self.dtype, self.head_dim, self.tables)
                       for layer in inner.layers]
        # The output layer is 8-bit under int4 too, as in the GGUF (Q8_0): at 4 bits it alone costs
        # about 5% perplexity. A 4-bit copy, half the bytes to read, picks the candidates that
        # sampling looks at (see top_logits).
        self.lm_head = Linear([hf_model.lm_head.weight], "none" if quant == "none" else "int8")
        self.draft_head = Linear([hf_model.lm_head.weight], "int4") if quant != "none" else None
        # the C++ step (native.py) and cos/sin: the global layers' rotary table
        self.cos, self.sin = self.tables[self.layers[0].rope_type]
        if dense_dtype(quant) != torch.float32:  # packed from fp32 above (see quant)
            hf_model.to(dense_dtype(quant))
        # Quantised engines keep keys and values in fp16 (as llama.cpp does): half the memory per
        # conversation and half the bytes decode attention reads. Attention itself runs in fp32
        # (on the CPU it is several times slower in bf16 or fp16).
        self.cache_dtype = torch.float32 if quant == "none" else torch.float16
        # The C++ step computes a plain Llama layer (csrc/decode.cpp); for anything more the
        # decode step stays in Python. A sliding window only matters past its length.
        plain = (all(layer.plain for layer in self.layers)
                 and len({id(t) for t in self.tables.values()}) == 1)
        self.native = native if quant != "none" and plain else None
        windows = [layer.window for layer in self.layers if layer.window]
        self.native_until = min(windows, default=self.max_positions)
        if native is not None and quant != "none" and not plain:
            log.info("%s has layers the C++ decode step does not compute; decoding in Python",
                     config.model_type)
        if self.native is not None:
            self.native_weights = [t for layer in self.layers for t in layer.native_weights()]

    def _rotary_tables(self, hf_model, inner) -> dict:
        """{layer type: (cos, sin)} over every position, from the model's own rotary module (so
        any rope scaling holds); rotate_half(x) * sin == x.roll(half) * [-sin_low, sin_high]."""
        positions = torch.arange(self.max_positions)[None]
        probe, half = self.embed[:1].float(), self.head_dim // 2
        types = {getattr(layer.self_attn, "layer_type", None) or "full_attention"
                 for layer in inner.layers} | {"full_attention"}

        def table(cos, sin):
            return cos[0].contiguous(), torch.cat([-sin[0, :, :half], sin[0, :, half:]], dim=-1)
        if "layer_type" in inspect.signature(inner.rotary_emb.forward).parameters:  # Gemma 3
            known = set(getattr(inner.rotary_emb, "layer_types", types))
            return {t: table(*inner.rotary_emb(probe, positions, t)) for t in types & known}
        one = table(*inner.rotary_emb(probe, positions))
        tables = {t: one for t in types}
        return tables

    @staticmethod
    def check(hf_model) -> None:
        """Raise UnsupportedModel (saying why) unless the fast path runs `hf_model`."""
        _check_supported(hf_model)

    def new_cache(self, capacity: int) -> KVCache:
        return KVCache(len(self.layers), self.n_kv_heads, self.head_dim, capacity, self.cache_dtype)

    @torch.inference_mode()
    def forward(self, tokens: list[int], segments: list[Segment], all_rows: bool = False):
        """Append `tokens` to the caches (in segment order); return the final hidden state of each
        segment's last row, [len(segments), hidden], or of every row with `all_rows`."""
        x = F.embedding(torch.tensor(tokens), self.embed).float()
        if self.embed_scale is not None:
            x = x * self.embed_scale
        if (self.native is not None and len(tokens) == len(segments) < DENSE_ROWS
                and all(cache.length < self.native_until for cache, _ in segments)):
            x = self.native.decode_layers(
                x, [cache.length for cache, _ in segments], self.cos, self.sin, self.native_weights,
                [cache.k for cache, _ in segments], [cache.v for cache, _ in segments],
                self.n_heads, self.n_kv_heads, self.root_eps.item(), INT4_GROUP)
        else:
            positions = torch.tensor([c.length + i for c, n in segments for i in range(n)])
            rotary = {t: (cos[positions].unsqueeze(1), sin[positions].unsqueeze(1))
                      for t, (cos, sin) in self.tables.items()}
            for index, layer in enumerate(self.layers):
                x = layer(x, index, *rotary[layer.rope_type], segments, self)
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
        return self._capped(self.lm_head(hidden).float())

    def _capped(self, logits: torch.Tensor) -> torch.Tensor:
        """Gemma 2's final soft-capping, cap * tanh(logits / cap) (it keeps the order)."""
        if self.final_softcap is None:
            return logits
        return torch.tanh(logits / self.final_softcap) * self.final_softcap

    @torch.inference_mode()
    def top_logits(self, hidden: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(token ids, their logits), [rows, k] each: the k best by the 4-bit output layer, scored
        exactly by the 8-bit one. Without a 4-bit copy (quant none): the top k of the full logits."""
        if self.draft_head is None or hidden.shape[0] >= DENSE_ROWS:
            logits, ids = self.logits(hidden).topk(k, dim=-1)
            return ids, logits
        ids = self.draft_head(hidden).topk(k, dim=-1).indices
        return ids, self._capped(self.lm_head.packed.select(hidden, ids))

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
    def __init__(self, layer, config, quant: str, dtype: torch.dtype, head_dim: int, tables: dict):
        attn, mlp = layer.self_attn, layer.mlp
        hidden = config.hidden_size
        gemma_style = hasattr(layer, "pre_feedforward_layernorm")  # norms after attention and MLP
        mlp_norm = layer.pre_feedforward_layernorm if gemma_style else layer.post_attention_layernorm
        attn_norm = _norm_weight(layer.input_layernorm, hidden)
        self.attn_norm, self.mlp_norm = attn_norm.to(dtype), _norm_weight(mlp_norm, hidden).to(dtype)
        root = hidden ** 0.5  # for Llama.norm_linear
        self.attn_unit_norm = attn_norm * root
        self.mlp_unit_norm = _norm_weight(mlp_norm, hidden) * root
        self.attn_out_norm = (_norm_weight(layer.post_attention_layernorm, hidden).to(dtype)
                              if gemma_style else None)
        self.mlp_out_norm = (_norm_weight(layer.post_feedforward_layernorm, hidden).to(dtype)
                             if gemma_style else None)
        self.q_norm = (_norm_weight(attn.q_norm, head_dim).float()
                       if getattr(attn, "q_norm", None) is not None else None)
        self.k_norm = (_norm_weight(attn.k_norm, head_dim).float()
                       if getattr(attn, "k_norm", None) is not None else None)
        self.qkv = Linear([attn.q_proj.weight, attn.k_proj.weight, attn.v_proj.weight], quant)
        self.qkv_bias = _bias([attn.q_proj, attn.k_proj, attn.v_proj])
        self.o = Linear([attn.o_proj.weight], quant)
        self.o_bias = _bias([attn.o_proj])
        self.gate_up = Linear([mlp.gate_proj.weight, mlp.up_proj.weight], quant)
        self.down = Linear([mlp.down_proj.weight], quant)
        act = getattr(config, "hidden_activation", None) or config.hidden_act
        self.act = F.silu if act == "silu" else mlp.act_fn
        self.window = (attn.sliding_window if hasattr(attn, "sliding_window")
                       else getattr(config, "sliding_window", None))
        self.scale = float(getattr(attn, "scaling", head_dim ** -0.5))
        self.softcap = getattr(attn, "attn_logit_softcapping", None)
        self.rope_type = getattr(attn, "layer_type", None) or "full_attention"
        if self.rope_type not in tables:
            self.rope_type = "full_attention"
        self.plain = (not gemma_style and self.q_norm is None and self.k_norm is None
                      and self.qkv_bias is None and self.o_bias is None and act == "silu"
                      and self.softcap is None and abs(self.scale - head_dim ** -0.5) < 1e-12)

    def native_weights(self) -> list[torch.Tensor]:
        """In the order csrc/decode.cpp reads them."""
        return [self.attn_unit_norm, *self.qkv.packed.tensors, *self.o.packed.tensors,
                self.mlp_unit_norm, *self.gate_up.packed.tensors, *self.down.packed.tensors]

    def __call__(self, x, index: int, cos, sin, segments: list[Segment], model: Llama):
        heads, kv_heads, dim = model.n_heads, model.n_kv_heads, model.head_dim
        qkv = model.norm_linear(x, self.attn_norm, self.attn_unit_norm, self.qkv)
        if self.qkv_bias is not None:
            qkv = qkv + self.qkv_bias.to(qkv.dtype)
        qkv = qkv.float().view(x.shape[0], -1, dim)
        qk, v = qkv.split([heads + kv_heads, kv_heads], dim=1)
        if self.q_norm is not None:  # Qwen3, Gemma 3: RMS norm over each head
            q, k = qk.split([heads, kv_heads], dim=1)
            qk = torch.cat([self.q_norm * F.rms_norm(q, (dim,), eps=model.eps),
                            self.k_norm * F.rms_norm(k, (dim,), eps=model.eps)], dim=1)
        qk = torch.addcmul(qk * cos, qk.roll(dim // 2, -1), sin)  # rotary embedding, q and k at once
        q, k = qk.split([heads, kv_heads], dim=1)
        out = self.o(_attend(q, k, v, index, segments, self).to(model.dtype))
        if self.o_bias is not None:
            out = out + self.o_bias.to(out.dtype)
        if self.attn_out_norm is not None:
            out = model.rms_norm(out.float(), self.attn_out_norm)
        x = x + out
        gate, up = model.norm_linear(x, self.mlp_norm, self.mlp_unit_norm, self.gate_up).chunk(2, 1)
        out = self.down(self.act(gate) * up)
        if self.mlp_out_norm is not None:
            out = model.rms_norm(out.float(), self.mlp_out_norm)
        return x + out


def _norm_weight(norm, size: int) -> torch.Tensor:
    """The fp32 weight w that makes `norm` compute w * rms_norm(x): its own weight (Llama) or
    1 + weight (Gemma), told apart by running it. Any other norm is not ours to copy."""
    weight = norm.weight.detach().float()
    probe = torch.linspace(-2, 3, size)[None]
    with torch.no_grad():
        got = norm(probe.to(norm.weight.dtype)).float()
    unit = F.rms_norm(probe, (size,), eps=norm.eps if hasattr(norm, "eps")
                      else getattr(norm, "variance_epsilon", 1e-6))
    for candidate in (weight, 1 + weight):
        if torch.allclose(got, unit * candidate, rtol=1e-3, atol=1e-5):
            return candidate
    raise UnsupportedModel(f"{type(norm).__name__} is not an RMS norm the fast path computes")


def _bias(linears) -> torch.Tensor | None:
    biases = [linear.bias for linear in linears]
    if all(b is None for b in biases):
        return None
    return torch.cat([b.detach().float() if b is not None
                      else torch.zeros(linear.out_features) for b, linear in zip(biases, linears)])


def _attend(q, k, v, index: int, segments: list[Segment], layer: _Layer) -> torch.Tensor:
    """Write each sequence's new keys/values into its cache, attend over everything it holds
    (or the layer's sliding window of it).
    q: [rows, heads, dim]; k, v: [rows, kv_heads, dim]; returns [rows, heads * dim]."""
    outs, row = [], 0
    window = layer.window
    for cache, count in segments:
        start, end = cache.length, cache.length + count
        keys, values = cache.layer_k[index], cache.layer_v[index]  # [1, kv_heads, capacity, dim]
        rows = slice(row, row + count)
        qs, ks, vs = (q, k, v) if len(segments) == 1 else (q[rows], k[rows], v[rows])
        # the first position any row here sees: row i (position start + i) sees the window's
        # last positions up to its own
        low = max(0, start - window + 1) if window else 0
        if count == 1:  # decode: one new position, attending to every one before it
            keys[:, :, start], values[:, :, start] = ks, vs
            out = _attention(qs.unsqueeze(2), keys[:, :, low:end].to(qs.dtype),
                             values[:, :, low:end].to(qs.dtype), None, False, layer)
            outs.append(out.view(1, -1))
        else:
            keys[0, :, start:end], values[0, :, start:end] = ks.transpose(0, 1), vs.transpose(0, 1)
            if start == 0 and not (window and end > window) and layer.softcap is None:
                mask, causal = None, True
            else:  # after a cached prefix, row i sees positions up to start + i
                positions = torch.arange(start, end)[:, None]
                seen = torch.arange(low, end)[None]
                mask = seen <= positions
                if window:
                    mask &= seen > positions - window
                causal = False
            out = _attention(qs.transpose(0, 1).unsqueeze(0), keys[:, :, low:end].to(qs.dtype),
                             values[:, :, low:end].to(qs.dtype), mask, causal, layer)
            outs.append(out[0].transpose(0, 1).reshape(count, -1))
        row += count
    return outs[0] if len(outs) == 1 else torch.cat(outs)


def _attention(q, k, v, mask, causal: bool, layer: _Layer) -> torch.Tensor:
    """q [1, heads, rows, dim] over k, v [1, kv_heads, n, dim]; soft-capped scores (Gemma 2) as
    Hugging Face's eager attention computes them, the rest by scaled_dot_product_attention."""
    if layer.softcap is None:
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal,
                                              scale=layer.scale, enable_gqa=True)
    group = q.shape[1] // k.shape[1]
    k, v = k.repeat_interleave(group, dim=1), v.repeat_interleave(group, dim=1)
    scores = torch.tanh(q @ k.transpose(-1, -2) * layer.scale / layer.softcap) * layer.softcap
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, dim=-1, dtype=torch.float32).to(q.dtype) @ v


def _check_supported(hf_model) -> None:
    config = hf_model.config
    inner = getattr(hf_model, "model", None)
    model_type = getattr(config, "model_type", None)
    layers = getattr(inner, "layers", None)
    reason = (f"its type {model_type!r} is not one of {', '.join(FAST_TYPES)}"
              if model_type not in FAST_TYPES
              else "it has no decoder layers where Llama has them" if not layers
              else "its MLP has biases" if getattr(layers[0].mlp.gate_proj, "bias", None) is not None
              else "its rotary embedding is not a full-width one"
              if getattr(config, "partial_rotary_factor", 1.0) != 1.0
              else "it attends bidirectionally" if getattr(config, "use_bidirectional_attention",
                                                           False)
              else None)
    if reason is not None:
        raise UnsupportedModel(f"The fast engine does not run this model: {reason}.")
