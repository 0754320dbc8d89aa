// BinaryConv2d: packed NHWC input, packed weights, XNOR + popcount through the indirect bconv
// kernels (each output pixel's taps are pointers into the input, no im2col copy), then the
// output transform (output_transform.h).
//
// Padding: a packed bit cannot hold ONNX's zero padding. A padded tap points at a pattern of 0
// words (+1) or, for pad_value -1, all valid bits set (-1). With pad_value 0 a padded tap must
// add nothing, so the popcount of the weights at that tap (what a +1 input against them
// counts) is subtracted again, and only valid taps count toward the number of products.
//
// Groups whose channels do not start on a word boundary are first gathered into contiguous
// rows; everything else is read in place through pointers.
//
// Ternary input (ONNX Sign(0) = 0, see base/tensor.h): the masked kernels count only nonzero
// activations, and a padded tap points at a pattern whose mask says what padding is (all 0
// for zero padding), so the number of products of each output pixel is the popcount of the
// masks of its taps and borders need no correction.
//
// Real-valued shortcuts (Bi-Real, ReActNet): a `residual` input is added to the float output in
// the same pass, then an optional activation (activation.h), and a second output can hold the
// result's packed signs for the next binary layer, so the block's float sum is written once and
// never re-read to be binarized.
#include <algorithm>
#include <cstring>

#include "xnorinfer/base/errors.h"
#include "xnorinfer/base/parallel.h"
#include "xnorinfer/graph/limits.h"
#include "xnorinfer/kernels/registry.h"
#include "xnorinfer/ops/activation.h"
#include "xnorinfer/ops/binary_weights.h"
#include "xnorinfer/ops/bit_copy.h"
#include "xnorinfer/ops/conv_geometry.h"
#include "xnorinfer/ops/op_registry.h"
#include "xnorinfer/ops/output_transform.h"

namespace xnorinfer {
namespace {

// Output pixels per task: this many kernel calls per weight block, so a block is reused from
// L1 across the tile.
constexpr int64_t kKernelCallsPerTile = 4;
// Kernel windows up to 16x16 taps; larger ones are refused when the op is created.
constexpr int64_t kMaxTaps = 256;

enum Input {  // docs/ir.md
  kX, kWeight, kScale, kBias, kOutOffset, kKmapSrc, kPostScale, kPostBias, kResidual, kSumOffset
};

class BinaryConv2d final : public Op {
 public:
  explicit BinaryConv2d(const OpArgs& args)
      : check_(args.node), geom_(ConvGeometry::parse(args.node)), kernel_{} {
    const AttrMap& a = args.node.attrs;
    check_.input_count(4, 10);
    check_.output_count(1, 2);
    group_ = a.get_bounded_int("group", 1, 1, kMaxExtent);
    in_channels_ = a.get_bounded_int("in_channels", 1, kMaxExtent);
    pad_value_ = a.get_int("pad_value", 0);
    if (pad_value_ < -1 || pad_value_ > 1) check_.fail("pad_value must be -1, 0 or 1");
    if (in_channels_ % group_ != 0) {
      check_.fail("in_channels (" + std::to_string(in_channels_) +
                  ") must be a positive multiple of group (" + std::to_string(group_) + ")");
    }
    if (geom_.kh * geom_.kw > kMaxTaps) {
      check_.fail("kernels over " + std::to_string(kMaxTaps) + " taps are not supported");
    }
    const Tensor& w = check_.constant(args, kWeight, DType::kBits, "weight");
    if (w.shape().size() != 4 || w.shape()[1] != geom_.kh || w.shape()[2] != geom_.kw) {
      check_.fail("weight must be [O, KH, KW, words] with KH x KW = kernel_shape, got " +
                  to_string(w.shape()));
    }
    out_channels_ = w.shape()[0];
    if (out_channels_ < 1 || out_channels_ % group_ != 0) {
      check_.fail("output channels (" + std::to_string(out_channels_) +
                  ") must be a positive multiple of group (" + std::to_string(group_) + ")");
    }
    bits_per_group_ = in_channels_ / group_;
    kernel_ = select_bconv(args.isa);
    weights_ = block_binary_weights(check_, w, out_channels_, group_, geom_.kh * geom_.kw,
                                    bits_per_group_, kernel_.nb);
    words_aligned_groups_ = group_ == 1 || bits_per_group_ % kBitsPerWord == 0;
    gather_rows_ = !words_aligned_groups_;
    tile_pixels_ = kernel_.mr * kKernelCallsPerTile;
    counts_stride_ = group_ * weights_.blocks_per_group * weights_.block;

    const std::string scaling = a.get_string("scaling", "kmap");
    if (scaling != "kmap" && scaling != "sample") check_.fail("scaling must be 'kmap' or 'sample'");
    sample_scaling_ = scaling == "sample";
    with_kmap_ = check_.has_input(kKmapSrc);
    if (with_kmap_) {
      if (args.constants[kKmapSrc]) check_.fail("kmap_src must be a computed value");
      if (!sample_scaling_) kmap_kernel_value_ = static_cast<float>(a.get_float("kmap_kernel_value"));
    }
    transform_ = make_output_transform(check_, args, out_channels_,
                                       geom_.kh * geom_.kw * bits_per_group_, with_kmap_);
    activation_ = Activation(check_, a, out_channels_);
    if (!activation_.none() && transform_.packed()) check_.fail("an activation needs a float output");
    with_residual_ = check_.has_input(kResidual);
    if (with_residual_ && (transform_.packed() || args.constants[kResidual])) {
      check_.fail("a residual is added to a float output, from a computed value");
    }
    const bool sum_bits = args.node.outputs.size() == 2 && !args.node.outputs[1].empty();
    if (sum_bits != check_.has_input(kSumOffset) || (sum_bits && transform_.packed())) {
      check_.fail("a second (packed) output needs sum_offset and a float first output");
    }
    if (sum_bits) {
      sum_offset_ = check_.float_vector(args, kSumOffset, out_channels_, "sum_offset");
      bitpack_ = select_bitpack(args.isa);
    }
    const int64_t wpt = weights_.words_per_tap;
    std::vector<Word> valid(static_cast<size_t>(wpt), ~Word{0});
    valid.back() = low_bits_mask(bits_per_group_ - (wpt - 1) * kBitsPerWord);
    pad_words_.assign(static_cast<size_t>(wpt), 0);
    if (pad_value_ == -1) pad_words_ = valid;
    // Ternary: sign words, then the mask words mask_offset_ words later (group 1: right after).
    mask_offset_ = words_for_bits(in_channels_);
    pad_ternary_.assign(static_cast<size_t>(mask_offset_ + wpt), 0);
    if (pad_value_ != 0) std::copy(valid.begin(), valid.end(), pad_ternary_.begin() + mask_offset_);
    if (pad_value_ == -1) std::copy(valid.begin(), valid.end(), pad_ternary_.begin());
  }

  std::vector<TensorInfo> infer(const std::vector<const TensorInfo*>& in) const override {
    const TensorInfo& x = *in[kX];
    if (x.dtype != DType::kTernary) check_.dtype(x, DType::kBits, "input");
    if (x.dtype == DType::kTernary && group_ != 1) check_.fail("a ternary input needs group = 1");
    check_.rank(x, 4, "input");
    if (x.shape[3] != in_channels_) {
      check_.fail("input has " + std::to_string(x.shape[3]) + " channels, expected " +
                  std::to_string(in_channels_));
    }
    geom_.check_input(check_, x.shape[1], x.shape[2]);
    if (with_kmap_) {
      const TensorInfo& k = *in[kKmapSrc];
      check_.dtype(k, DType::kFloat32, "kmap_src");
      if (k.shape != Shape{x.shape[0], x.shape[1], x.shape[2], 1}) {
        check_.fail("kmap_src must be [N, H, W, 1] of the input, got " + to_string(k.shape));
      }
    }
    const Shape out_shape = {x.shape[0], geom_.out_h(x.shape[1]), geom_.out_w(x.shape[2]), out_channels_};
    if (with_residual_) {
      check_.dtype(*in[kResidual], DType::kFloat32, "residual");
      if (in[kResidual]->shape != out_shape) {
        check_.fail("residual must have the output's shape " + to_string(out_shape) + ", got " +
                    to_string(in[kResidual]->shape));
      }
    }
    std::vector<TensorInfo> out = {{transform_.packed() ? DType::kBits : DType::kFloat32, out_shape}};
    if (sum_offset_) out.push_back({DType::kBits, out_shape});
    return out;
  }

  size_t scratch_bytes(const std::vector<const TensorInfo*>&) const override {
    const int64_t taps = weights_.taps;
    const int64_t rows = gather_rows_ ? tile_pixels_ * weights_.k_words() : 0;
    return static_cast<size_t>(tile_pixels_ * taps) * sizeof(const Word*) +
           static_cast<size_t>(rows) * sizeof(Word) +
           static_cast<size_t>(tile_pixels_ * (counts_stride_ + 1) + out_channels_) * sizeof(int32_t);
  }

  void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
           const RunContext& ctx) const override {
    const Shape& xs = in[kX]->shape();
    const Shape& ys = out[0]->shape();
    const int64_t pixels = ys[1] * ys[2];
    const int64_t tiles_per_image = (pixels + tile_pixels_ - 1) / tile_pixels_;
    const int64_t tiles = xs[0] * tiles_per_image;
    const int64_t chunk = channel_chunk(tiles, ctx.num_threads);
    const int64_t chunks = (out_channels_ + chunk - 1) / chunk;
    parallel_for(tiles * chunks, ctx.num_threads, [&](int64_t task, int thread) {
      const int64_t tile = task / chunks, o0 = (task % chunks) * chunk;
      const int64_t n = tile / tiles_per_image;
      const int64_t p0 = (tile % tiles_per_image) * tile_pixels_;
      run_tile(in, out, n, p0, std::min(tile_pixels_, pixels - p0),
               {o0, std::min(o0 + chunk, out_channels_)}, ctx.thread_scratch(thread));
    });
  }

 private:
  struct Channels {
    int64_t begin, end;
  };

  // Output channels per task. Small images (the deep layers) have few pixel tiles, so their
  // channels are split too, until every thread has several tasks. A chunk is a whole number of
  // 64-channel words (and so of kernel blocks), so packed outputs never share a word between
  // tasks; with groups, a task keeps all channels. Results do not depend on the split.
  int64_t channel_chunk(int64_t tiles, int num_threads) const {
    constexpr int64_t kTasksPerThread = 4;
    const int64_t wanted = kTasksPerThread * num_threads;
    if (group_ > 1 || tiles >= wanted) return out_channels_;
    const int64_t chunks = std::min((wanted + tiles - 1) / tiles, words_for_bits(out_channels_));
    return round_up((out_channels_ + chunks - 1) / chunks, kBitsPerWord);
  }

  // Where output pixel (oy, ox)'s window starts in the input, and whether it lies wholly
  // inside (no padded tap).
  struct Window {
    int64_t y0, x0;
    bool inside;
  };
  Window window(int64_t oy, int64_t ox, int64_t h, int64_t w) const {
    const int64_t y0 = oy * geom_.stride_h - geom_.pad_top;
    const int64_t x0 = ox * geom_.stride_w - geom_.pad_left;
    const bool inside = y0 >= 0 && y0 + (geom_.kh - 1) * geom_.dilation_h < h && x0 >= 0 &&
                        x0 + (geom_.kw - 1) * geom_.dilation_w < w;
    return {y0, x0, inside};
  }

  bool tap_valid(const Window& win, int64_t ky, int64_t kx, int64_t h, int64_t w) const {
    const int64_t iy = win.y0 + ky * geom_.dilation_h, ix = win.x0 + kx * geom_.dilation_w;
    return iy >= 0 && iy < h && ix >= 0 && ix < w;
  }

  // Calls visit(p, window, corner, tap_offset) for output pixels p0 .. p0 + count - 1 of image
  // n, where corner points at the window's top-left input pixel (group g's first word) and
  // tap_offset[t] is tap t's word offset from it when the window is wholly inside.
  template <typename Visit>
  void for_each_window(const Tensor& x, int64_t n, int64_t p0, int64_t count, int64_t g,
                       const Visit& visit) const {
    const Shape& xs = x.shape();
    const int64_t h = xs[1], w = xs[2];
    const int64_t x_words = x.info.last_axis_storage();
    const int64_t out_w = geom_.out_w(w);
    const Word* image = x.words() + n * h * w * x_words;
    const int64_t group_word = words_aligned_groups_ ? g * bits_per_group_ / kBitsPerWord : 0;
    int64_t tap_offset[kMaxTaps];
    for (int64_t ky = 0, t = 0; ky < geom_.kh; ++ky)
      for (int64_t kx = 0; kx < geom_.kw; ++kx, ++t)
        tap_offset[t] = (ky * geom_.dilation_h * w + kx * geom_.dilation_w) * x_words + group_word;
    int64_t oy = p0 / out_w, ox = p0 % out_w;
    for (int64_t p = 0; p < count; ++p, ox = ox + 1 == out_w ? 0 : ox + 1, oy += ox == 0) {
      const Window win = window(oy, ox, h, w);
      visit(p, win, image + (win.y0 * w + win.x0) * x_words, tap_offset);
    }
  }

  // Pointer mode: points each (pixel, tap) of the tile at group g's words of the input pixel
  // it reads, or at the padding pattern `pad`.
  void point_taps(const Tensor& x, int64_t n, int64_t p0, int64_t count, int64_t g,
                  const Word* pad, const Word** ptrs) const {
    const int64_t h = x.shape()[1], w = x.shape()[2];
    const int64_t taps = weights_.taps;
    for_each_window(x, n, p0, count, g, [&](int64_t p, const Window& win, const Word* corner,
                                            const int64_t* tap_offset) {
      const Word** row = ptrs + p * taps;
      if (win.inside) {  // most pixels: no bounds test per tap
        for (int64_t t = 0; t < taps; ++t) row[t] = corner + tap_offset[t];
        return;
      }
      for (int64_t ky = 0, t = 0; ky < geom_.kh; ++ky) {
        for (int64_t kx = 0; kx < geom_.kw; ++kx, ++t) {
          row[t] = tap_valid(win, ky, kx, h, w) ? corner + tap_offset[t] : pad;
        }
      }
    });
  }

  // Row mode, for groups whose channels do not start on a word boundary: copies each pixel's
  // taps of group g (or the padding pattern) into one contiguous row of taps * words_per_tap
  // words and points at it; the kernel reads the row as one tap. (Doing this for every layer
  // with one- or two-word taps measured 15-30% slower than pointer mode: the copies cost more
  // than the pointer reloads they save.)
  void gather_rows(const Tensor& x, int64_t n, int64_t p0, int64_t count, int64_t g,
                   const Word** ptrs, Word* rows) const {
    const int64_t h = x.shape()[1], w = x.shape()[2];
    const int64_t wpt = weights_.words_per_tap;
    for_each_window(x, n, p0, count, g, [&](int64_t p, const Window& win, const Word* corner,
                                            const int64_t* tap_offset) {
      Word* row = rows + p * weights_.k_words();
      ptrs[p] = row;
      for (int64_t ky = 0, t = 0; ky < geom_.kh; ++ky) {
        for (int64_t kx = 0; kx < geom_.kw; ++kx, ++t) {
          Word* dst = row + t * wpt;
          if (!win.inside && !tap_valid(win, ky, kx, h, w)) {
            for (int64_t i = 0; i < wpt; ++i) dst[i] = pad_words_[i];
          } else if (words_aligned_groups_) {
            for (int64_t i = 0; i < wpt; ++i) dst[i] = corner[tap_offset[t] + i];
          } else {
            copy_bits(corner + tap_offset[t], g * bits_per_group_, bits_per_group_, dst);
          }
        }
      }
    });
  }

  // Ternary input: per pixel of the tile, the number of nonzero products, from the masks of
  // the taps its pointers reach (padding patterns included).
  void count_nonzero(const Word* const* ptrs, int64_t count, int32_t* nonzero) const {
    const int64_t taps = weights_.taps, wpt = weights_.words_per_tap;
    for (int64_t p = 0; p < count; ++p) {
      int32_t total = 0;
      for (int64_t t = 0; t < taps; ++t) {
        const Word* mask = ptrs[p * taps + t] + mask_offset_;
        for (int64_t i = 0; i < wpt; ++i) total += __builtin_popcountll(mask[i]);
      }
      nonzero[p] = total;
    }
  }

  // Per-sample β: the mean of the A map over image n (mean |x| over its C, H and W).
  static float sample_mean(const Tensor& a, int64_t n) {
    const int64_t pixels = a.shape()[1] * a.shape()[2];
    const float* image = a.f32() + n * pixels;
    float sum = 0.0f;
    for (int64_t i = 0; i < pixels; ++i) sum += image[i];
    return sum / static_cast<float>(pixels);
  }

  // K = kmap_kernel_value * sum of the A map over the taps inside the image.
  float kmap_value(const Tensor& a, int64_t n, const Window& win) const {
    const int64_t h = a.shape()[1], w = a.shape()[2];
    float sum = 0.0f;
    for (int64_t ky = 0; ky < geom_.kh; ++ky) {
      for (int64_t kx = 0; kx < geom_.kw; ++kx) {
        if (tap_valid(win, ky, kx, h, w)) {
          sum += a.f32()[(n * h + win.y0 + ky * geom_.dilation_h) * w + win.x0 + kx * geom_.dilation_w];
        }
      }
    }
    return kmap_kernel_value_ * sum;
  }

  // Counts of differing bits for one border pixel with zero padding, minus what its padded
  // taps added (a +1 pattern against the weights counts their -1s), and its valid products.
  int32_t correct_border(const Window& win, int64_t h, int64_t w, Channels channels,
                         int32_t* counts) const {
    int64_t valid_taps = weights_.taps;
    for (int64_t ky = 0, t = 0; ky < geom_.kh; ++ky) {
      for (int64_t kx = 0; kx < geom_.kw; ++kx, ++t) {
        if (tap_valid(win, ky, kx, h, w)) continue;
        --valid_taps;
        const int32_t* pop = weights_.tap_popcount.data() + t;
        for (int64_t o = channels.begin; o < channels.end; ++o) counts[o] -= pop[o * weights_.taps];
      }
    }
    return static_cast<int32_t>(valid_taps * bits_per_group_);
  }

  // Output pixels [p0, p0 + count) of image n, for the given output channels.
  void run_tile(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out, int64_t n,
                int64_t p0, int64_t count, Channels channels, uint8_t* scratch) const {
    const Tensor& x = *in[kX];
    const bool ternary = x.info.dtype == DType::kTernary;
    const Tensor* kmap_src = with_kmap_ ? in[kKmapSrc] : nullptr;
    const float sample_k = kmap_src && sample_scaling_ ? sample_mean(*kmap_src, n) : 0.0f;
    Tensor& y = *out[0];
    const int64_t taps = weights_.taps;
    const Word** ptrs = reinterpret_cast<const Word**>(scratch);
    Word* rows = reinterpret_cast<Word*>(ptrs + tile_pixels_ * taps);
    int32_t* counts = reinterpret_cast<int32_t*>(
        rows + (gather_rows_ ? tile_pixels_ * weights_.k_words() : 0));
    int32_t* pixel_counts = counts + tile_pixels_ * counts_stride_;
    int32_t* nonzero = pixel_counts + out_channels_;  // ternary: products per pixel
    // Per pixel: `pointers_per_pixel` pointers to runs of `run_words` words.
    const int64_t pointers_per_pixel = gather_rows_ ? 1 : taps;
    const int64_t run_words = gather_rows_ ? weights_.k_words() : weights_.words_per_tap;
    for (int64_t g = 0; g < group_; ++g) {
      if (gather_rows_) {
        gather_rows(x, n, p0, count, g, ptrs, rows);
      } else {
        point_taps(x, n, p0, count, g, ternary ? pad_ternary_.data() : pad_words_.data(), ptrs);
      }
      if (ternary) count_nonzero(ptrs, count, nonzero);
      const int64_t first_block = group_ > 1 ? 0 : channels.begin / weights_.block;
      const int64_t end_block = group_ > 1 ? weights_.blocks_per_group
                                           : (channels.end + weights_.block - 1) / weights_.block;
      for (int64_t b = first_block; b < end_block; ++b) {
        const Word* block = weights_.block_data(g, b);
        int32_t* block_counts = counts + (g * weights_.blocks_per_group + b) * weights_.block;
        for (int64_t s = 0; s < count; s += kernel_.mr) {
          const int64_t mr = std::min<int64_t>(kernel_.mr, count - s);
          const Word* const* pixels = ptrs + s * pointers_per_pixel;
          int32_t* pixel_block_counts = block_counts + s * counts_stride_;
          if (ternary) {
            kernel_.masked(mr, pointers_per_pixel, run_words, pixels, block, pixel_block_counts,
                           counts_stride_, mask_offset_);
          } else {
            kernel_.fn(mr, pointers_per_pixel, run_words, pixels, block, pixel_block_counts,
                       counts_stride_);
          }
        }
      }
    }
    const int64_t h = x.shape()[1], w = x.shape()[2];
    const Shape& ys = y.shape();
    const int64_t og = weights_.channels_per_group;
    const int64_t group_stride = weights_.blocks_per_group * weights_.block;
    const int64_t y_words = words_for_bits(out_channels_);
    const int32_t all_products = static_cast<int32_t>(taps * bits_per_group_);
    const int64_t o0 = channels.begin, width = channels.end - channels.begin;
    int64_t oy = p0 / ys[2], ox = p0 % ys[2];
    for (int64_t p = 0; p < count; ++p, ox = ox + 1 == ys[2] ? 0 : ox + 1, oy += ox == 0) {
      const Window win = window(oy, ox, h, w);
      // Each group's block-padded counts, gathered into one row of out_channels.
      int32_t* c = counts + p * counts_stride_;
      if (group_ > 1) {
        for (int64_t g = 0; g < group_; ++g) {
          std::memcpy(pixel_counts + g * og, c + g * group_stride, og * sizeof(int32_t));
        }
        c = pixel_counts;
      } else if (pad_value_ == 0 && !win.inside && !ternary) {
        std::memcpy(pixel_counts + o0, c + o0, width * sizeof(int32_t));
        c = pixel_counts;
      }
      int32_t products = all_products;
      if (ternary) products = nonzero[p];
      else if (pad_value_ == 0 && !win.inside) products = correct_border(win, h, w, channels, c);
      float k = 0.0f;
      if (kmap_src) k = sample_scaling_ ? sample_k : kmap_value(*kmap_src, n, win);
      const int64_t pixel = (n * ys[1] + oy) * ys[2] + ox;
      float* y_row = transform_.packed() ? nullptr : y.f32() + pixel * out_channels_ + o0;
      Word* bits_row =
          transform_.packed() ? y.words() + pixel * y_words + o0 / kBitsPerWord : nullptr;
      transform_.write(c + o0, products, o0, width, k, y_row, bits_row);
      if (with_residual_) {
        const float* r = in[kResidual]->f32() + pixel * out_channels_ + o0;
        for (int64_t o = 0; o < width; ++o) y_row[o] += r[o];
      }
      if (y_row) activation_.apply(y_row, o0, width);
      if (sum_offset_) {  // the sum's signs for the next binary layer, while the row is hot
        bitpack_(y_row, 1, width, width, sum_offset_ + o0,
                 out[1]->words() + pixel * y_words + o0 / kBitsPerWord, nullptr, y_words, nullptr);
      }
    }
  }

  NodeChecker check_;
  ConvGeometry geom_;
  BconvKernel kernel_;
  int64_t group_ = 1, in_channels_ = 0, out_channels_ = 0, bits_per_group_ = 0, pad_value_ = 0;
  BlockedBinaryWeights weights_;
  bool words_aligned_groups_ = true;
  bool gather_rows_ = false;  // row mode (gather_rows) rather than pointer mode (point_taps)
  int64_t tile_pixels_ = 0;
  int64_t counts_stride_ = 0;  // int32 per pixel in the counts scratch
  std::vector<Word> pad_words_;    // the padding pattern of one tap, bits input
  std::vector<Word> pad_ternary_;  // the same for ternary input: sign words, then mask words
  int64_t mask_offset_ = 0;        // ternary input: words from a sign word to its mask word
  OutputTransform transform_;
  bool with_kmap_ = false;
  bool sample_scaling_ = false;  // kmap_src scales by its per-image mean (β), not a box filter
  bool with_residual_ = false;
  Activation activation_;
  const float* sum_offset_ = nullptr;  // non-null when the second (packed) output is written
  BitpackFn bitpack_ = nullptr;
  float kmap_kernel_value_ = 0.0f;
};

}  // namespace

std::unique_ptr<Op> create_binary_conv2d(const OpArgs& args) {
  return std::make_unique<BinaryConv2d>(args);
}

}  // namespace xnorinfer
