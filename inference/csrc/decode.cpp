// Kindred's decode step in C++: every layer of a Llama for one new token per sequence, on the
// packed int4/int8 weights of app/inference/quant.py. The matmuls are torch's own packed kernels;
// what is here is the glue between them (RMS norm, rotary, KV-cache write, attention, SiLU), which
// costs ~30 small eager ops per layer from Python: about 40% of a decode step on 2 cores.
// It computes what app/inference/llama.py's _Layer computes for rows < DENSE_ROWS; the tests hold
// the two to the same outputs.
#include <torch/extension.h>
#include <ATen/Parallel.h>
#include <ATen/cpu/vec/functional.h>
#include <ATen/cpu/vec/vec.h>

#include <algorithm>
#include <cmath>
#include <vector>

using at::BFloat16;
using at::Tensor;

namespace {

// x times the packed weights of one linear layer: int4 (scales and zeros [groups, out, 2]) or
// int8 (scale [out]).
Tensor packed_linear(const Tensor& x, const Tensor& weight, const Tensor& scales, int64_t group) {
  return scales.dim() == 3 ? at::_weight_int4pack_mm_for_cpu(x, weight, group, scales)
                           : at::_weight_int8pack_mm(x, weight, scales);
}

// bf16 rows of x * unit / sqrt(||x||^2 + root_eps^2): RMS norm, with its weight times sqrt(n)
// in `unit`.
Tensor unit_rms_bf16(const Tensor& x, const Tensor& unit, float root_eps_sq) {
  auto out = at::empty(x.sizes(), x.options().dtype(at::kBFloat16));
  const int64_t rows = x.size(0), n = x.size(1);
  const float* px = x.data_ptr<float>();
  const float* pw = unit.data_ptr<float>();
  BFloat16* po = out.data_ptr<BFloat16>();
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = px + r * n;
    float ss = 0.f;
    for (int64_t i = 0; i < n; ++i) ss += xr[i] * xr[i];
    const float norm = std::sqrt(ss + root_eps_sq);
    for (int64_t i = 0; i < n; ++i) po[r * n + i] = BFloat16(xr[i] * pw[i] / norm);
  }
  return out;
}

using Vec = at::vec::Vectorized<float>;

// Vec::size() cached keys or values as fp32, from an fp32 or an fp16 cache.
inline Vec load_float(const float* data) { return Vec::loadu(data); }
inline Vec load_float(const at::Half* data) {
  Vec out;
  at::vec::load_to_float(data, out);
  return out;
}

// The `group` query heads sharing one key/value head, over `length` cached positions ([capacity,
// dim] rows): each key and value row is read once for the whole group. scores: group * length.
template <typename Cache>
void attend_group(const float* q, const Cache* keys, const Cache* values, int64_t length,
                  int64_t group, int64_t dim, float* scores, float* out) {
  const float scale = 1.f / std::sqrt(float(dim));
  const int64_t lanes = Vec::size(), whole = dim - dim % lanes;
  for (int64_t t = 0; t < length; ++t) {
    const Cache* k = keys + t * dim;
    for (int64_t j = 0; j < group; ++j) {
      const float* qj = q + j * dim;
      Vec acc(0.f);
      for (int64_t i = 0; i < whole; i += lanes)
        acc = at::vec::fmadd(Vec::loadu(qj + i), load_float(k + i), acc);
      float score = at::vec::vec_reduce_all<float>([](Vec& a, Vec& b) { return a + b; }, acc);
      for (int64_t i = whole; i < dim; ++i) score += qj[i] * float(k[i]);
      scores[j * length + t] = score * scale;
    }
  }
  for (int64_t j = 0; j < group; ++j) {  // softmax, each head's row in place
    float* head = scores + j * length;
    const float best = *std::max_element(head, head + length);
    at::vec::map([best](Vec x) { return (x - Vec(best)).exp(); }, head, head, length);
    const float inverse = 1.f / at::vec::reduce_all<float>(
        [](Vec& a, Vec& b) { return a + b; }, head, length);
    at::vec::map([inverse](Vec x) { return x * Vec(inverse); }, head, head, length);
  }
  std::fill(out, out + group * dim, 0.f);
  for (int64_t t = 0; t < length; ++t) {
    const Cache* v = values + t * dim;
    for (int64_t j = 0; j < group; ++j) {
      const Vec p(scores[j * length + t]);
      float* o = out + j * dim;
      for (int64_t i = 0; i < whole; i += lanes)
        at::vec::fmadd(p, load_float(v + i), Vec::loadu(o + i)).store(o + i);
      for (int64_t i = whole; i < dim; ++i) o[i] += scores[j * length + t] * float(v[i]);
    }
  }
}

}  // namespace

// x: [rows, hidden] fp32, one new token per sequence; positions[r]: where row r's token goes in
// keys[r]/values[r] ([layers, kv_heads, capacity, dim], fp32 or fp16). cos/sin: [max_positions,
// dim] with rotate_half's sign folded into sin. weights: per layer attn_unit, qkv, qkv_scales, o,
// o_scales, mlp_unit, gate_up, gate_up_scales, down, down_scales (int4 in groups of `int4_group`
// inputs, or int8). Returns the final residual stream.
Tensor decode_layers(Tensor x, const std::vector<int64_t>& positions, const Tensor& cos,
                     const Tensor& sin, const std::vector<Tensor>& weights,
                     const std::vector<Tensor>& keys, const std::vector<Tensor>& values,
                     int64_t heads, int64_t kv_heads, double root_eps, int64_t int4_group) {
  constexpr int64_t kPerLayer = 10;
  const int64_t rows = x.size(0), dim = cos.size(1), half = dim / 2;
  const int64_t layers = int64_t(weights.size()) / kPerLayer, group = heads / kv_heads;
  TORCH_CHECK(int64_t(positions.size()) == rows && int64_t(keys.size()) == rows &&
              int64_t(values.size()) == rows, "one position and cache per row");
  for (int64_t r = 0; r < rows; ++r) {
    TORCH_CHECK(keys[r].is_contiguous() && values[r].is_contiguous() &&
                positions[r] < keys[r].size(2),
                "cache ", r, " cannot hold position ", positions[r]);
    TORCH_CHECK(keys[r].scalar_type() == keys[0].scalar_type() &&
                values[r].scalar_type() == keys[0].scalar_type() &&
                (keys[0].scalar_type() == at::kFloat || keys[0].scalar_type() == at::kHalf),
                "caches must all be fp32 or all fp16");
  }
  const float root_eps_sq = float(root_eps * root_eps);
  const int64_t width = (heads + 2 * kv_heads) * dim;
  int64_t longest = 0;
  for (int64_t p : positions) longest = std::max(longest, p + 1);
  x = x.contiguous().clone();
  auto q = at::empty({rows, heads, dim}, x.options());
  auto attended = at::empty({rows, heads * dim}, x.options());
  auto scores = at::empty({rows * heads, longest}, x.options());
  float* pq = q.data_ptr<float>();
  float* pa = attended.data_ptr<float>();
  float* ps = scores.data_ptr<float>();
  const float* pcos = cos.data_ptr<float>();
  const float* psin = sin.data_ptr<float>();
  const bool half_cache = keys[0].scalar_type() == at::kHalf;

  // Rotary on q and k (in fp32, as llama.py), k and v into the caches (of type `Cache`: fp32 or
  // fp16) at their position, then attention for every row.
  auto attend_layer = [&](auto cache_zero, int64_t l, const BFloat16* pqkv) {
    using Cache = decltype(cache_zero);
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t pos = positions[r], capacity = keys[r].size(2);
      const float* c = pcos + pos * dim;
      const float* s = psin + pos * dim;
      auto rotated = [&](const BFloat16* head, int64_t i) {  // x * cos + rotate_half(x) * sin
        return float(head[i]) * c[i] + float(head[i < half ? i + half : i - half]) * s[i];
      };
      for (int64_t h = 0; h < heads + 2 * kv_heads; ++h) {
        const BFloat16* src = pqkv + r * width + h * dim;
        if (h < heads) {
          float* dst = pq + (r * heads + h) * dim;
          for (int64_t i = 0; i < dim; ++i) dst[i] = rotated(src, i);
          continue;
        }
        const bool key = h < heads + kv_heads;
        const int64_t kv = h - heads - (key ? 0 : kv_heads);
        Cache* dst = (key ? keys[r] : values[r]).data_ptr<Cache>() +
                     ((l * kv_heads + kv) * capacity + pos) * dim;
        for (int64_t i = 0; i < dim; ++i) dst[i] = Cache(key ? rotated(src, i) : float(src[i]));
      }
    }
    at::parallel_for(0, rows * kv_heads, 1, [&](int64_t begin, int64_t end) {
      for (int64_t unit = begin; unit < end; ++unit) {  // unit: (row, key/value head)
        const int64_t r = unit / kv_heads, capacity = keys[r].size(2);
        const int64_t offset = ((l * kv_heads + unit % kv_heads) * capacity) * dim;
        attend_group(pq + unit * group * dim, keys[r].data_ptr<Cache>() + offset,
                     values[r].data_ptr<Cache>() + offset, positions[r] + 1, group, dim,
                     ps + unit * group * longest, pa + unit * group * dim);
      }
    });
  };

  for (int64_t l = 0; l < layers; ++l) {
    const Tensor* w = &weights[l * kPerLayer];
    auto qkv = packed_linear(unit_rms_bf16(x, w[0], root_eps_sq), w[1], w[2], int4_group);
    if (half_cache)
      attend_layer(at::Half(0), l, qkv.data_ptr<BFloat16>());
    else
      attend_layer(0.f, l, qkv.data_ptr<BFloat16>());
    x.add_(packed_linear(attended.to(at::kBFloat16), w[3], w[4], int4_group));
    auto gate_up = packed_linear(unit_rms_bf16(x, w[5], root_eps_sq), w[6], w[7], int4_group);
    const int64_t inner = gate_up.size(1) / 2;
    auto mixed = at::empty({rows, inner}, gate_up.options());
    const BFloat16* pg = gate_up.data_ptr<BFloat16>();
    BFloat16* pm = mixed.data_ptr<BFloat16>();
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t i = 0; i < inner; ++i) {  // silu(gate) * up, each rounded to bf16 as in torch
        const float g = float(pg[r * 2 * inner + i]), u = float(pg[r * 2 * inner + inner + i]);
        pm[r * inner + i] = BFloat16(float(BFloat16(g / (1.f + std::exp(-g)))) * u);
      }
    x.add_(packed_linear(mixed, w[8], w[9], int4_group));
  }
  return x;
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("decode_layers", &decode_layers, "every layer of a decode step (see decode.cpp)");
}
