// Every compiled kernel this CPU runs, against its reference, over random and awkward shapes
// (tile edges, channel tails, masked tails), bit for bit: bitpack, bconv (plain, masked, fused
// float output), bit counts, output transforms, sgemm, sconv, qconv, bfconv, pooling,
// interleaving and tile transposes. The Python kernel tests cover most of the same families through
// the bindings; these need no Python, so they also run where only the C++ core builds (a
// cross-compiled target under emulation).
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include "check.h"
#include "xnorinfer/base/aligned_buffer.h"
#include "xnorinfer/cpu/isa.h"
#include "xnorinfer/kernels/bfconv/bf16_round.h"
#include "xnorinfer/kernels/registry.h"
#include "xnorinfer/ops/binary_weights.h"
#include "xnorinfer/ops/float_weights.h"

namespace xnorinfer {
namespace {

using test::rng;

std::vector<KernelInfo> runnable(const char* family) {
  std::vector<KernelInfo> kernels;
  std::string names;
  for (const KernelInfo& k : list_kernels()) {
    if (std::string(k.family) == family && k.runs_at(best_available_isa())) {
      kernels.push_back(k);
      names += std::string(names.empty() ? "" : ", ") + k.name;
    }
  }
  CHECK(!kernels.empty());                              // the portable kernel at least
  std::printf("     %s: %s\n", family, names.c_str());  // which kernels this CPU checks
  return kernels;
}

float normal() {
  static std::normal_distribution<float> dist;
  return dist(rng());
}

// Normal floats with ±0, ±inf and NaN mixed in.
std::vector<float> awkward_floats(size_t n) {
  const float specials[] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 1.0f, -1.0f};
  std::vector<float> v(n);
  for (float& x : v) x = rng()() % 8 == 0 ? specials[rng()() % 7] : normal();
  return v;
}

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof(float)) == 0; }

// Words whose bits past `bits` (in each row of `words_per_row`) are 0, as packed tensors keep them.
std::vector<Word> packed_words(int64_t rows, int64_t bits, int64_t words_per_row) {
  std::vector<Word> w(static_cast<size_t>(rows * words_per_row));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t i = 0; i < words_per_row; ++i) {
      const int64_t left = bits - i * kBitsPerWord;
      Word word = rng()();
      if (left <= 0) word = 0;
      if (left > 0 && left < kBitsPerWord) word &= (Word{1} << left) - 1;
      w[r * words_per_row + i] = word;
    }
  }
  return w;
}

TEST(bitpack_kernels_match_the_reference) {
  for (const KernelInfo& k : runnable("bitpack")) {
    const BitpackFn fn = find_bitpack(k.name);
    for (int64_t channels : {1, 31, 63, 64, 65, 127, 128, 200, 513}) {
      for (int variant = 0; variant < 8; ++variant) {
        const bool with_offset = variant & 1, ternary = variant & 2, affine = variant & 4;
        const int64_t rows = 1 + rng()() % 7, stride = channels + rng()() % 3;
        std::vector<float> x = awkward_floats(static_cast<size_t>(rows * stride + 64));
        std::vector<float> offset = awkward_floats(static_cast<size_t>(channels));
        for (float& o : offset) o = std::isfinite(o) ? o : 0.5f;
        std::vector<float> scale(channels), bias(channels);
        for (float& v : scale) v = normal();
        for (float& v : bias) v = normal();
        const int64_t words = words_for_bits(channels), row_words = ternary ? 2 * words : words;
        std::vector<Word> got(rows * row_words, 7), want(rows * row_words, 7);
        std::vector<float> got_mean(rows), want_mean(rows);
        const float* off = with_offset ? offset.data() : nullptr;
        const float* s = affine ? scale.data() : nullptr;
        const float* b = affine ? bias.data() : nullptr;
        fn(x.data(), rows, channels, stride, s, b, off, got.data(),
           ternary ? got.data() + words : nullptr, row_words, got_mean.data());
        bitpack_ref(x.data(), rows, channels, stride, s, b, off, want.data(),
                    ternary ? want.data() + words : nullptr, row_words, want_mean.data());
        const std::string where = std::string(k.name) + " C=" + std::to_string(channels);
        for (size_t i = 0; i < got.size(); ++i) CHECK_EQ_CTX(got[i], want[i], where);
        for (int64_t r = 0; r < rows; ++r) CHECK(same_bits(got_mean[r], want_mean[r]));
      }
    }
  }
}

// With a scale and bias, the reference packs what ChannelAffine (x * scale, then + bias) would
// have written, bit for bit: the fused pair changes nothing.
TEST(bitpack_affine_packs_the_affine_output) {
  for (int64_t channels : {1, 65, 200}) {
    const int64_t rows = 3;
    std::vector<float> x = awkward_floats(static_cast<size_t>(rows * channels));
    std::vector<float> scale(channels), bias(channels), offset(channels), y(x.size());
    for (float& v : scale) v = normal();
    for (float& v : bias) v = normal();
    for (float& v : offset) v = normal();
    bias[0] = 0.0f;  // x = 0 then packs a 0 (ternary)
    for (int64_t i = 0; i < rows * channels; ++i) {
      volatile float product = x[i] * scale[i % channels];  // rounded, as the op rounds it
      y[i] = product + bias[i % channels];
    }
    const int64_t words = words_for_bits(channels);
    std::vector<Word> fused(rows * 2 * words), unfused(rows * 2 * words);
    std::vector<float> fused_mean(rows), unfused_mean(rows);
    bitpack_ref(x.data(), rows, channels, channels, scale.data(), bias.data(), offset.data(),
                fused.data(), fused.data() + words, 2 * words, fused_mean.data());
    bitpack_ref(y.data(), rows, channels, channels, nullptr, nullptr, offset.data(), unfused.data(),
                unfused.data() + words, 2 * words, unfused_mean.data());
    for (size_t i = 0; i < fused.size(); ++i) CHECK_EQ(fused[i], unfused[i]);
    for (int64_t r = 0; r < rows; ++r) CHECK(same_bits(fused_mean[r], unfused_mean[r]));
  }
}

// Pixels [m][taps][planes * wpt] and weights [n][taps][wpt] for the bconv tests.
struct BconvCase {
  int64_t m, n, taps, bits, wpt, planes;
  std::vector<Word> a, w;
  std::vector<BconvTap> tap_list;
  std::vector<const Word*> pixels;

  BconvCase(int64_t m_, int64_t n_, int64_t taps_, int64_t bits_, bool masked)
      : m(m_), n(n_), taps(taps_), bits(bits_), wpt(words_for_bits(bits_)), planes(masked ? 2 : 1) {
    a = packed_words(m * taps * planes, bits, wpt);
    if (masked) {  // a sign bit is 0 where its mask bit is 0 (a zero activation)
      for (int64_t t = 0; t < m * taps; ++t) {
        for (int64_t i = 0; i < wpt; ++i) a[(t * 2) * wpt + i] &= a[(t * 2 + 1) * wpt + i];
      }
    }
    w = packed_words(n * taps, bits, wpt);
    for (int64_t t = 0; t < taps; ++t) tap_list.push_back({t * planes * wpt, t});
    for (int64_t p = 0; p < m; ++p) pixels.push_back(a.data() + p * taps * planes * wpt);
  }

  BlockedBinaryWeights blocked(int64_t nb, int lane_bits) const {
    static const NodeDef node{"bconv", "test", {}, {}, AttrMap()};
    const Tensor weights{{DType::kBits, {n, taps, wpt * kBitsPerWord}},
                         const_cast<Word*>(w.data())};
    return block_binary_weights(NodeChecker(node), weights, n, 1, taps, bits, nb, lane_bits);
  }
};

TEST(bconv_kernels_match_the_reference) {
  for (const KernelInfo& k : runnable("bconv")) {
    const BconvKernel kernel = find_bconv(k.name);
    for (int masked = 0; masked < 2; ++masked) {
      for (int64_t bits : {1, 32, 63, 64, 96, 130, 256}) {
        for (int64_t n : {1, kernel.nb - 1, kernel.nb, kernel.nb + 3}) {
          if (n < 1) continue;
          const int64_t taps = 1 + rng()() % 9, m = 1 + rng()() % (2 * kernel.mr);
          BconvCase c(m, n, taps, bits, masked);
          const BlockedBinaryWeights bw = c.blocked(kernel.nb, kernel.lane_bits);
          const int64_t stride = bw.blocks_per_group * kernel.nb;
          std::vector<int32_t> got(m * stride, -1), want(m * stride, -1);
          for (int64_t b = 0; b < bw.blocks_per_group; ++b) {
            for (int64_t p = 0; p < m; p += kernel.mr) {
              const int64_t mr = std::min<int64_t>(kernel.mr, m - p);
              const int64_t at = p * stride + b * kernel.nb;
              const int64_t mask_offset = masked ? c.wpt : -1;
              if (masked) {
                kernel.masked(mr, taps, c.tap_list.data(), bw.lanes_per_tap, c.pixels.data() + p,
                              bw.block_data(0, b), got.data() + at, stride, nullptr, mask_offset);
              } else {
                kernel.fn(mr, taps, c.tap_list.data(), bw.lanes_per_tap, c.pixels.data() + p,
                          bw.block_data(0, b), got.data() + at, stride, nullptr);
              }
              bconv_ref(mr, kernel.nb, kernel.lane_bits, taps, c.tap_list.data(), bw.lanes_per_tap,
                        c.pixels.data() + p, bw.block_data(0, b), want.data() + at, stride, nullptr,
                        mask_offset);
            }
          }
          const std::string where = std::string(k.name) + " bits=" + std::to_string(bits) +
                                    " n=" + std::to_string(n) + (masked ? " masked" : "");
          for (int64_t p = 0; p < m; ++p) {
            for (int64_t o = 0; o < n; ++o)
              CHECK_EQ_CTX(got[p * stride + o], want[p * stride + o], where);
          }
        }
      }
    }
  }
}

// The float output a bconv kernel writes in place of counts (relu, residual, the sum's signs,
// each on or off), against the reference's: whole and partial channel blocks and tiles, both
// twins, and per-pixel products up to kMaxFusedDotBits.
TEST(bconv_fused_float_output_matches_the_reference) {
  for (const KernelInfo& k : runnable("bconv")) {
    const BconvKernel kernel = find_bconv(k.name);
    for (int variant = 0; variant < 32; ++variant) {
      const bool relu = variant & 1, with_residual = variant & 2, with_sums = variant & 4;
      const bool masked = variant & 8, partial = variant & 16;
      const int64_t n = partial ? 1 + rng()() % kernel.nb : kernel.nb;
      const int64_t m = partial ? 1 + rng()() % kernel.mr : kernel.mr, taps = 9, bits = 128;
      BconvCase c(m, n, taps, bits, masked);
      const BlockedBinaryWeights bw = c.blocked(kernel.nb, kernel.lane_bits);
      std::vector<float> scale(n), bias(n), sum_threshold(n);
      for (int64_t o = 0; o < n; ++o)
        scale[o] = normal(), bias[o] = normal(), sum_threshold[o] = normal();
      std::vector<int32_t> products(m);
      for (int64_t p = 0; p < m; ++p)
        products[p] = p == 0 ? kMaxFusedDotBits : static_cast<int32_t>(rng()() % (taps * bits + 1));
      std::vector<float> residual = awkward_floats(m * n), got(m * n), want(m * n);
      std::vector<Word> got_bits(m, ~Word{0}), want_bits(m, ~Word{0});
      std::vector<float*> got_rows, want_rows;
      std::vector<const float*> residual_rows;
      std::vector<Word*> got_sum, want_sum;
      for (int64_t p = 0; p < m; ++p) {
        got_rows.push_back(got.data() + p * n);
        want_rows.push_back(want.data() + p * n);
        residual_rows.push_back(residual.data() + p * n);
        got_sum.push_back(&got_bits[p]);
        want_sum.push_back(&want_bits[p]);
      }
      const auto output = [&](float* const* rows, Word* const* sums) {
        return BconvFloatOutput{products.data(),
                                rows,
                                0,
                                scale.data(),
                                bias.data(),
                                n,
                                with_residual ? residual_rows.data() : nullptr,
                                relu,
                                with_sums ? sum_threshold.data() : nullptr,
                                sums};
      };
      const BconvFloatOutput got_out = output(got_rows.data(), got_sum.data());
      const BconvFloatOutput want_out = output(want_rows.data(), want_sum.data());
      const int64_t mask_offset = masked ? c.wpt : -1;
      std::vector<int32_t> scratch(m * kernel.nb);
      if (masked) {
        kernel.masked(m, taps, c.tap_list.data(), bw.lanes_per_tap, c.pixels.data(),
                      bw.block_data(0, 0), scratch.data(), kernel.nb, &got_out, mask_offset);
      } else {
        kernel.fn(m, taps, c.tap_list.data(), bw.lanes_per_tap, c.pixels.data(),
                  bw.block_data(0, 0), scratch.data(), kernel.nb, &got_out);
      }
      bconv_ref(m, kernel.nb, kernel.lane_bits, taps, c.tap_list.data(), bw.lanes_per_tap,
                c.pixels.data(), bw.block_data(0, 0), scratch.data(), kernel.nb, &want_out,
                mask_offset);
      const std::string where = std::string(k.name) + " variant=" + std::to_string(variant);
      for (int64_t i = 0; i < m * n; ++i) CHECK_EQ_CTX(same_bits(got[i], want[i]), true, where);
      if (with_sums) {
        for (int64_t p = 0; p < m; ++p) CHECK_EQ_CTX(got_bits[p], want_bits[p], where);
      }
    }
  }
}

TEST(output_kernels_match_the_portable_ones) {
  const OutputKernels portable = select_output(Isa::kScalar);
  for (const Isa isa : compiled_isas()) {
    if (static_cast<int>(isa) > static_cast<int>(best_available_isa())) continue;
    const OutputKernels k = select_output(isa);
    for (int64_t n : {1, 7, 16, 63, 64, 65, 200}) {
      const int32_t products = 576;
      std::vector<int32_t> counts(n), below(n), above(n);
      std::vector<float> scale(n), bias(n), got(n), want(n);
      for (int64_t o = 0; o < n; ++o) {
        counts[o] = static_cast<int32_t>(rng()() % (products + 1));
        below[o] = static_cast<int32_t>(rng()() % 200) - 100;
        above[o] = below[o] + static_cast<int32_t>(rng()() % 300);
        scale[o] = normal();
        bias[o] = normal();
      }
      k.to_float(counts.data(), products, n, scale.data(), bias.data(), got.data());
      portable.to_float(counts.data(), products, n, scale.data(), bias.data(), want.data());
      for (int64_t o = 0; o < n; ++o) CHECK(same_bits(got[o], want[o]));
      std::vector<Word> got_bits(words_for_bits(n), 1), want_bits(words_for_bits(n), 2);
      k.to_bits(counts.data(), products, n, below.data(), above.data(), got_bits.data());
      portable.to_bits(counts.data(), products, n, below.data(), above.data(), want_bits.data());
      for (size_t i = 0; i < got_bits.size(); ++i)
        CHECK_EQ_CTX(got_bits[i], want_bits[i], to_string(isa));
    }
  }
}

// B [k x n] transposed into rows of k (one per output channel), as the ops pack weights.
std::vector<float> transpose(const std::vector<float>& b, int64_t k, int64_t n) {
  std::vector<float> rows(static_cast<size_t>(n * k));
  for (int64_t p = 0; p < k; ++p)
    for (int64_t j = 0; j < n; ++j) rows[j * k + p] = b[p * n + j];
  return rows;
}

// Then + bias, then relu (the kernels' epilogue), past a NEON chunk of 256 k steps and past the
// AVX-512 kernel's groups of 4 panels.
TEST(sgemm_kernels_match_the_reference) {
  for (const KernelInfo& info : runnable("sgemm")) {
    const SgemmKernel k = find_sgemm(info.name);
    for (int64_t m : {1, 5, 13}) {
      for (int64_t n : {1, 15, 33, 70, 133}) {
        for (int64_t kk : {1, 9, 147, 300}) {
          const std::vector<float> a = awkward_floats(m * kk), b = awkward_floats(kk * n);
          const std::vector<float> bias = awkward_floats(n);
          const PackedFloatWeights panels =
              pack_float_weights(transpose(b, kk, n).data(), n, kk, k.nr);
          std::vector<float> want(m * n);
          sgemm_ref(m, n, kk, a.data(), kk, b.data(), n, want.data(), n);
          for (int epilogue = 0; epilogue < 3; ++epilogue) {
            const float* fused_bias = epilogue > 0 ? bias.data() : nullptr;
            const bool relu = epilogue == 2;
            std::vector<float> got(m * n);
            k.fn(m, n, kk, a.data(), kk, panels.from(0), got.data(), n, fused_bias, relu);
            for (int64_t i = 0; i < m * n; ++i) {
              float v = fused_bias ? want[i] + bias[i % n] : want[i];
              if (relu) v = v < 0.0f ? 0.0f : v;
              // NaN + NaN is either operand's NaN, as the compiler orders the add.
              const bool two_nans = fused_bias && std::isnan(want[i]) && std::isnan(bias[i % n]);
              CHECK(two_nans ? std::isnan(got[i]) : same_bits(got[i], v));
            }
          }
        }
      }
    }
  }
}

// The direct float conv equals sgemm on the same rows (its contract), then + bias, then relu.
TEST(sconv_kernels_match_the_reference) {
  for (const KernelInfo& info : runnable("sconv")) {
    const SconvKernel k = find_sconv(info.name);
    for (int64_t n : {1, 17, 40, 64, 96, 130}) {
      for (int epilogue = 0; epilogue < 3; ++epilogue) {
        // Each pixel's window: 7 rows of 21 floats, 9 floats apart in its row of a (as in an
        // image row); the windows gathered into rows of `windows` are sgemm's operand.
        const int64_t m = 1 + rng()() % 13, rows = 7, length = 21, kk = rows * length;
        const int64_t width = rows * (length + 9);
        std::vector<int64_t> offsets;
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t i = 0; i < length; ++i) offsets.push_back(r * (length + 9) + i);
        std::vector<float> a(m * width, NAN), windows(m * kk), b(kk * n), bias(n);
        for (int64_t p = 0; p < m; ++p) {
          for (int64_t i = 0; i < kk; ++i) {
            windows[p * kk + i] = a[p * width + offsets[i]] = normal();
          }
        }
        for (float& v : b) v = normal();
        for (float& v : bias) v = normal();
        const PackedFloatWeights panels =
            pack_float_weights(transpose(b, kk, n).data(), n, kk, k.nb);
        std::vector<float> got(m * n), want(m * n);
        std::vector<const float*> pixels;
        std::vector<float*> out;
        for (int64_t p = 0; p < m; ++p)
          pixels.push_back(a.data() + p * width), out.push_back(got.data() + p * n);
        const float* fused_bias = epilogue > 0 ? bias.data() : nullptr;
        const bool relu = epilogue == 2;
        for (int64_t o = 0; o < n; o += k.nb) {
          for (int64_t p = 0; p < m; p += k.mr) {
            k.fn(std::min<int64_t>(k.mr, m - p), kk, offsets.data(), pixels.data() + p,
                 panels.from(o), out.data() + p, o, std::min<int64_t>(k.nb, n - o),
                 fused_bias ? fused_bias + o : nullptr, relu);
          }
        }
        sgemm_ref(m, n, kk, windows.data(), kk, b.data(), n, want.data(), n);
        for (int64_t i = 0; i < m * n; ++i) {
          float v = fused_bias ? want[i] + bias[i % n] : want[i];
          if (relu) v = v < 0.0f ? 0.0f : v;
          CHECK(same_bits(got[i], v));
        }
      }
    }
  }
}

// Weights w [k x n] (int8 or bf16 bits) in the qconv/bfconv panel layout: per block of nb
// channels, byte p of channel j at (p / 4) * nb * 4 + (j % nb) * 4 + p % 4.
template <typename T>
AlignedBuffer panels_of(const std::vector<T>& w, int64_t k, int64_t n, int64_t nb) {
  const int64_t bytes = k * static_cast<int64_t>(sizeof(T)), panel = round_up(bytes, 4) * nb;
  AlignedBuffer panels(static_cast<size_t>((n + nb - 1) / nb * panel));
  std::memset(panels.data(), 0, panels.size());
  for (int64_t p = 0; p < k; ++p) {
    for (int64_t j = 0; j < n; ++j) {
      const int64_t byte = p * static_cast<int64_t>(sizeof(T));
      std::memcpy(panels.data() + (j / nb) * panel + (byte / 4) * nb * 4 + (j % nb) * 4 + byte % 4,
                  &w[p * n + j], sizeof(T));
    }
  }
  return panels;
}

// A layer's direct conv kernel is its ISA's widest tier, with the blocks that pad its channels
// least (96 channels: two 48-channel blocks, not 64 + 32), the first listed on a tie.
TEST(sconv_selection_pads_channels_least) {
  const std::vector<KernelInfo> kernels = runnable("sconv");
  for (const KernelInfo& widest : kernels) {
    for (int64_t channels : {1, 3, 32, 48, 64, 96, 100, 128, 192, 200}) {
      const SconvKernel chosen = select_sconv(widest.isa, channels);
      const KernelInfo* want = nullptr;
      for (const KernelInfo& info : kernels) {
        if (info.isa != chosen.isa) continue;
        if (!want || round_up(channels, info.nr) < round_up(channels, want->nr)) want = &info;
      }
      CHECK_EQ_CTX(want != nullptr && chosen.fn == find_sconv(want->name).fn, true,
                   std::to_string(channels) + " channels");
    }
    if (std::string(widest.name) == "sconv_ukernel_8x48__avx512f") {
      CHECK_EQ(select_sconv(widest.isa, 96).nb, 48);
      CHECK_EQ(select_sconv(widest.isa, 64).nb, 64);
    }
  }
}

TEST(qconv_kernels_match_the_exact_product) {
  for (const KernelInfo& info : runnable("qconv")) {
    const QconvKernel q = find_qconv(info.name);
    for (int64_t n : {1, 17, 64, 96, 130}) {
      const int64_t m = 1 + rng()() % 13, rows = 7, row_bytes = 24, kk = rows * row_bytes;
      std::vector<uint8_t> a(m * kk);
      std::vector<int8_t> w(kk * n);
      for (auto& v : a) v = static_cast<uint8_t>(rng()() % 256);
      for (auto& v : w) v = static_cast<int8_t>(static_cast<int>(rng()() % 255) - 127);
      std::vector<int32_t> correction(n);
      std::vector<float> multiplier(n), bias(n);
      for (int64_t o = 0; o < n; ++o) {
        correction[o] = static_cast<int32_t>(rng()() % 200000) - 100000;
        multiplier[o] = normal();
        bias[o] = normal();
      }
      const AlignedBuffer panels = panels_of(w, kk, n, q.nb);
      std::vector<float> got(m * n);
      std::vector<const uint8_t*> pixels;
      std::vector<float*> out;
      for (int64_t p = 0; p < m; ++p)
        pixels.push_back(a.data() + p * kk), out.push_back(got.data() + p * n);
      const int64_t panel_bytes = kk * q.nb;
      for (int relu = 0; relu < 2; ++relu) {
        for (int64_t o = 0; o < n; o += q.nb) {
          const QconvOutput output{correction.data() + o, multiplier.data() + o, bias.data() + o,
                                   relu == 1};
          for (int64_t p = 0; p < m; p += q.mr) {
            q.fn(std::min<int64_t>(q.mr, m - p), rows, row_bytes, row_bytes, pixels.data() + p,
                 reinterpret_cast<const int8_t*>(panels.data()) + (o / q.nb) * panel_bytes, output,
                 out.data() + p, o, std::min<int64_t>(q.nb, n - o));
          }
        }
        for (int64_t p = 0; p < m; ++p) {
          for (int64_t o = 0; o < n; ++o) {
            int64_t sum = 0;
            for (int64_t i = 0; i < kk; ++i) sum += int64_t{a[p * kk + i]} * w[i * n + o];
            const float product = static_cast<float>(sum - correction[o]) * multiplier[o];
            float v = product + bias[o];
            if (relu) v = v < 0.0f ? 0.0f : v;
            CHECK(same_bits(got[p * n + o], v));
          }
        }
      }
    }
  }
}

TEST(bfconv_kernels_match_the_portable_one) {
  const BfconvKernel portable = find_bfconv("bfconv_ukernel_4x16__scalar");
  for (const KernelInfo& info : runnable("bfconv")) {
    const BfconvKernel k = find_bfconv(info.name);
    for (int64_t n : {1, 17, 64, 96}) {
      const int64_t m = 1 + rng()() % 13, rows = 7, elements = 22, kk = rows * elements;
      std::vector<uint16_t> a(m * kk), w(kk * n);
      for (auto& v : a) {
        const float f = normal();
        uint32_t bits;
        std::memcpy(&bits, &f, 4);
        v = static_cast<uint16_t>(bits >> 16);  // a bf16 (truncated: any bf16 will do)
      }
      for (auto& v : w) {
        const float f = normal() * 0.1f;
        uint32_t bits;
        std::memcpy(&bits, &f, 4);
        v = static_cast<uint16_t>(bits >> 16);
      }
      std::vector<float> bias(n);
      for (float& b : bias) b = normal();
      const auto run = [&](const BfconvKernel& kernel, bool relu) {
        const AlignedBuffer panels = panels_of(w, kk, n, kernel.nb);
        const int64_t panel_bytes = 2 * kk * kernel.nb;
        std::vector<float> y(m * n);
        std::vector<const uint8_t*> pixels;
        std::vector<float*> out;
        for (int64_t p = 0; p < m; ++p) {
          pixels.push_back(reinterpret_cast<const uint8_t*>(a.data() + p * kk));
          out.push_back(y.data() + p * n);
        }
        for (int64_t o = 0; o < n; o += kernel.nb) {
          for (int64_t p = 0; p < m; p += kernel.mr) {
            kernel.fn(std::min<int64_t>(kernel.mr, m - p), rows, 2 * elements, 2 * elements,
                      pixels.data() + p, panels.data() + (o / kernel.nb) * panel_bytes,
                      bias.data() + o, relu, out.data() + p, o,
                      std::min<int64_t>(kernel.nb, n - o));
          }
        }
        return y;
      };
      for (bool relu : {false, true}) {
        const std::vector<float> got = run(k, relu), want = run(portable, relu);
        for (int64_t i = 0; i < m * n; ++i) CHECK(same_bits(got[i], want[i]));
      }
    }
  }
}

// Each qconv kernel's range and row quantization against the portable ones: finite rows of
// both signs, one sign only, subnormals and zeros, at every tail length (ranges also with NaN
// and infinity); quantized with zero points 0, 255 and in between, past the clamps (inverse
// 42.5) and on exact ties (inverse 0.5, x * inverse = k + 0.5).
TEST(qconv_ranges_and_row_quantizations_match_the_portable_ones) {
  const QconvKernel portable = find_qconv("qconv_ukernel_4x16__scalar");
  for (const KernelInfo& info : runnable("qconv")) {
    const QconvKernel k = find_qconv(info.name);
    for (int64_t n : {0, 1, 15, 16, 17, 100}) {
      for (int sign : {-1, 0, 1}) {  // all negative, mixed, all positive
        std::vector<float> x(n);
        for (int64_t i = 0; i < n; ++i) {
          const float v = i % 5 == 0 ? (i % 2 ? 1e-40f : -0.0f) : normal() * 3.0f;
          x[i] = sign == 0 ? v : sign * std::fabs(v);
        }
        float lo, hi, want_lo, want_hi;
        bool finite, want_finite;
        k.range(x.data(), n, &lo, &hi, &finite);
        portable.range(x.data(), n, &want_lo, &want_hi, &want_finite);
        CHECK(finite && want_finite && same_bits(lo, want_lo) && same_bits(hi, want_hi));
        for (float inverse : {0.5f, 42.5f}) {
          for (int32_t zero : {0, 77, 255}) {
            std::vector<float> y = x;
            for (int64_t i = 0; i < n; i += 7)
              y[i] = (std::floor(normal() * 40.0f) + 0.5f) / inverse;
            std::vector<uint8_t> got(n), want(n);
            k.quantize_row(y.data(), n, inverse, zero, got.data());
            portable.quantize_row(y.data(), n, inverse, zero, want.data());
            CHECK(got == want);
          }
        }
      }
      const std::vector<float> any = awkward_floats(static_cast<size_t>(n));
      float lo, hi;
      bool finite, want_finite;
      k.range(any.data(), n, &lo, &hi, &finite);
      portable.range(any.data(), n, &lo, &hi, &want_finite);
      CHECK(finite == want_finite);
    }
  }
}

// Each bfconv kernel's row rounding against bf16_round.h's to_bf16, value by value: ties, a
// carry into the exponent, a rounding up to infinity, subnormals of both signs, zeros, at
// every tail length and at an odd destination address; NaN or infinity anywhere is reported.
TEST(bf16_row_roundings_match_to_bf16) {
  // Halfway between two bf16: to the even one, below and above.
  const float tie = 1.0f + std::ldexp(1.0f, -8), odd_tie = 1.0f + std::ldexp(3.0f, -8);
  const std::vector<float> special = {tie,         -odd_tie,       std::nextafter(tie, 2.0f),
                                      1.99999988f, 3.4028235e38f,  -3.4028235e38f,
                                      1e-39f,      -1e-39f,        0.0f,
                                      -0.0f,       1.17549435e-38f};
  for (const KernelInfo& info : runnable("bfconv")) {
    const Bf16RoundFn round_row = find_bfconv(info.name).round_row;
    for (int64_t n : {0, 1, 15, 16, 17, 100}) {
      std::vector<float> x(n);
      for (int64_t i = 0; i < n; ++i) {
        x[i] = i % 3 == 0 ? special[(i / 3) % special.size()] : normal() * 100.0f;
      }
      std::vector<uint8_t> dst(2 * n + 1);
      CHECK(round_row(x.data(), n, dst.data() + 1));
      for (int64_t i = 0; i < n; ++i) {
        uint16_t got;
        std::memcpy(&got, dst.data() + 1 + 2 * i, 2);
        CHECK(got == to_bf16(x[i]));
      }
      for (float bad :
           {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
        for (int64_t at = 0; at < n; at += 7) {
          std::vector<float> y = x;
          y[at] = bad;
          CHECK(!round_row(y.data(), n, dst.data()));
        }
      }
    }
  }
}

TEST(interleave_kernels_match_the_transpose) {
  for (const KernelInfo& info : runnable("interleave")) {
    const InterleaveFn fn = find_interleave(info.name);
    for (int64_t planes = 1; planes <= kMaxInterleavedPlanes; ++planes) {
      for (int64_t cols : {1, 7, 16, 17, 50}) {
        const std::vector<float> x = awkward_floats(planes * cols);
        const int64_t j0 = cols > 2 ? 1 : 0, j1 = cols > 2 ? cols - 1 : cols;
        std::vector<float> y(cols * planes, -7.5f);
        fn(x.data(), planes, cols, j0, j1, y.data());
        for (int64_t j = 0; j < cols; ++j) {
          for (int64_t c = 0; c < planes; ++c) {
            const float want = j >= j0 && j < j1 ? x[c * cols + j] : -7.5f;
            CHECK(same_bits(y[j * planes + c], want));
          }
        }
      }
    }
  }
}

// Per pixel, the set bits of the words its taps point at (after `offset`), against a bit-by-bit
// count: empty and full words, one to nine taps, one to eight words per tap.
TEST(count_bits_kernels_count_every_set_bit) {
  for (const KernelInfo& info : runnable("count_bits")) {
    const CountBitsFn fn = find_count_bits(info.name);
    for (int64_t taps = 0; taps <= 9; taps += 3) {
      for (int64_t words_per_tap : {1, 3, 8}) {
        const int64_t count = 7, offset = 2, span = 20 * words_per_tap;
        std::vector<Word> words(static_cast<size_t>(count * span + offset + taps * words_per_tap));
        for (Word& w : words) w = rng()() % 5 == 0 ? ~Word{0} : rng()() % 5 == 0 ? 0 : rng()();
        std::vector<const Word*> bases;
        for (int64_t i = 0; i < count; ++i) bases.push_back(words.data() + i * span);
        std::vector<BconvTap> tap_list;
        for (int64_t t = 0; t < taps; ++t) tap_list.push_back({(t * 5 % 9) * words_per_tap, t});
        std::vector<int32_t> totals(count, -1);
        fn(bases.data(), count, tap_list.data(), taps, words_per_tap, offset, totals.data());
        for (int64_t i = 0; i < count; ++i) {
          int32_t want = 0;
          for (const BconvTap& tap : tap_list) {
            for (int64_t k = 0; k < words_per_tap; ++k) {
              const Word w = bases[i][tap.a_offset + offset + k];
              for (int b = 0; b < kBitsPerWord; ++b) want += (w >> b) & 1;
            }
          }
          CHECK_EQ_CTX(totals[i], want, std::string(info.name));
        }
      }
    }
  }
}

// Whole tiles and every partial tile shape, inside matrices wider than the tile (strides), and
// nothing outside the tile written.
TEST(transpose_kernels_match_the_loop) {
  for (const KernelInfo& info : runnable("transpose")) {
    const TransposeTileFn fn = find_transpose(info.name);
    for (int64_t rows = 1; rows <= kTransposeTile; ++rows) {
      for (int64_t cols = 1; cols <= kTransposeTile; ++cols) {
        const int64_t x_stride = cols + rng()() % 20, y_stride = rows + rng()() % 20;
        const std::vector<float> x = awkward_floats(rows * x_stride);
        std::vector<float> y(cols * y_stride, -7.5f);
        fn(x.data(), x_stride, rows, cols, y.data(), y_stride);
        const std::string where =
            std::string(info.name) + " " + std::to_string(rows) + "x" + std::to_string(cols);
        for (int64_t j = 0; j < cols; ++j) {
          for (int64_t i = 0; i < y_stride; ++i) {
            const float want = i < rows ? x[i * x_stride + j] : -7.5f;
            CHECK_EQ_CTX(same_bits(y[j * y_stride + i], want), true, where);
          }
        }
      }
    }
  }
}

TEST(average_pool_kernels_add_in_row_order_then_divide) {
  for (const KernelInfo& info : runnable("pool")) {
    const AverageRowsFn fn = find_pool(info.name).average_rows;
    for (int64_t count : {0, 1, 4, 9}) {
      for (int64_t n : {1, 15, 16, 17, 64, 130}) {
        for (int64_t groups : {1, 3}) {
          const int64_t step = 2 * n;  // gaps between the groups' floats
          std::vector<std::vector<float>> data;
          std::vector<const float*> rows;
          for (int64_t r = 0; r < count; ++r) data.push_back(awkward_floats(groups * step));
          for (const auto& row : data) rows.push_back(row.data());
          const float divisor = count == 0 ? 1.0f : static_cast<float>(count);
          std::vector<float> got(groups * n);
          fn(rows.data(), count, n, groups, step, divisor, got.data());
          for (int64_t g = 0; g < groups; ++g) {
            for (int64_t i = 0; i < n; ++i) {
              float sum = 0.0f;
              for (int64_t r = 0; r < count; ++r) sum += data[r][g * step + i];
              CHECK(same_bits(got[g * n + i], sum / divisor));
            }
          }
        }
      }
    }
  }
}

TEST(max_pool_kernels_match_the_fold) {
  for (const KernelInfo& info : runnable("pool")) {
    const MaxRowsFn fn = find_pool(info.name).max_rows;
    for (int64_t count : {0, 1, 2, 3, 9}) {
      for (int64_t n : {1, 15, 16, 17, 64, 130}) {
        for (int64_t groups : {1, 3}) {
          // Group g reads n floats at g * step of each row; step 2n leaves gaps between them.
          const int64_t step = 2 * n;
          std::vector<std::vector<float>> data;
          std::vector<const float*> rows;
          for (int64_t r = 0; r < count; ++r) data.push_back(awkward_floats(groups * step));
          for (const auto& row : data) rows.push_back(row.data());
          std::vector<float> got(groups * n);
          fn(rows.data(), count, n, groups, step, got.data());
          for (int64_t g = 0; g < groups; ++g) {
            for (int64_t i = 0; i < n; ++i) {
              float want = -INFINITY;
              for (int64_t r = 0; r < count; ++r) {
                const float v = data[r][g * step + i];
                want = (v > want || v != v) ? v : want;
              }
              CHECK(same_bits(got[g * n + i], want));
            }
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace xnorinfer

TEST_MAIN()
