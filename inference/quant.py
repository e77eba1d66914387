"""Linear layers for the engine: one or more nn.Linear weights side by side (q|k|v, gate|up).

- none: fp32, one F.linear per weight: exactly the Hugging Face arithmetic.
- int8: int8 per output channel (torch._weight_int8pack_mm).
- int4: 4 bits in groups of 32 inputs with a scale and a zero point
  (torch._weight_int4pack_mm_for_cpu). SmolLM2's GGUF is Q4_1 in blocks of 32: this keeps its grid.
Quantised modes run bf16 activations (the packed kernels are ~50x slower with fp32 ones) and
also use the model's own weights: from DENSE_ROWS rows on (prefill, big batches) a dense matmul
is ~3x faster than the packed kernels; below it (decode) the packed weights win, being 2-4x fewer
bytes to stream from memory. The dense weights are bf16 where the CPU multiplies bf16 natively
(AVX512-BF16, AMX); without it (AVX2) oneDNN's bf16 matmul is 6-8x slower than fp32, so they stay
fp32 (see dense_dtype).
"""
import torch
import torch.nn.functional as F

MODES = ("none", "int8", "int4")
INT4_GROUP = 32
DENSE_ROWS = 16


def activation_dtype(mode: str) -> torch.dtype:
    return torch.float32 if mode == "none" else torch.bfloat16


def dense_dtype(mode: str) -> torch.dtype:
    """What the model's own weights should be kept in for the dense (many-row) matmuls."""
    native_bf16 = torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
    return torch.bfloat16 if mode != "none" and native_bf16 else torch.float32


class Linear:
    def __init__(self, weights: list[torch.nn.Parameter], mode: str):
        if mode not in MODES:
            raise ValueError(f"unknown quantisation {mode!r}; choose one of {', '.join(MODES)}")
        self.weights, self.packed = weights, None
        if mode != "none":
            weight = torch.cat([w.float() for w in weights])
            int4 = mode == "int4" and weight.shape[1] % INT4_GROUP == 0 and weight.shape[0] % 16 == 0
            self.packed = _Int4(weight) if int4 else _Int8(weight)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.packed is not None and x.shape[0] < DENSE_ROWS:
            return self.packed(x)
        outs = [F.linear(x.to(w.dtype), w) for w in self.weights]
        return outs[0] if len(outs) == 1 else torch.cat(outs, dim=-1)


class _Int8:
    def __init__(self, weight: torch.Tensor):
        scale = weight.abs().amax(dim=1).clamp(min=1e-8) / 127
        self.q = torch.round(weight / scale[:, None]).clamp(-127, 127).to(torch.int8)
        self.scale = scale.to(torch.bfloat16)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return torch._weight_int8pack_mm(x, self.q, self.scale)

    @property
    def tensors(self) -> list[torch.Tensor]:
        """(weights, scales) as the C++ decode step takes them: a 1-d scale means int8."""
        return [self.q, self.scale]

    def select(self, x: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        """Outputs `rows` [n, k] only, for each of x's n rows: [n, k] in fp32."""
        weights = self.q[rows].float()  # [n, k, in]
        return torch.bmm(weights, x.float().unsqueeze(-1)).squeeze(-1) * self.scale[rows]


class _Int4:
    def __init__(self, weight: torch.Tensor):
        out_features, in_features = weight.shape
        groups = weight.reshape(out_features, in_features // INT4_GROUP, INT4_GROUP)
        low, high = groups.amin(-1, keepdim=True), groups.amax(-1, keepdim=True)
        scale = ((high - low) / 15).clamp(min=1e-8)
        q = torch.round((groups - low) / scale).clamp(0, 15).to(torch.int32)
        self.packed = torch._convert_weight_to_int4pack_for_cpu(q.reshape(weight.shape), 1)
        zero = low + 8 * scale  # the kernel computes (q - 8) * scale + zero
        self.scales_and_zeros = torch.stack([scale[..., 0].t(), zero[..., 0].t()], dim=-1) \
            .contiguous().to(torch.bfloat16)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return torch._weight_int4pack_mm_for_cpu(x, self.packed, INT4_GROUP, self.scales_and_zeros)

    @property
    def tensors(self) -> list[torch.Tensor]:
        """(weights, scales) as the C++ decode step takes them: 3-d scales and zeros mean int4."""
        return [self.packed, self.scales_and_zeros]
