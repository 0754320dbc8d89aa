#include "xnorinfer/ops/float_conv_core.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "xnorinfer/base/parallel.h"
#include "xnorinfer/base/scratch_carver.h"

namespace xnorinfer {
namespace {

// Copies n floats. The window rows im2col copies are short (the stem's 7 taps x 3 channels
// are 84 bytes), where a call to memmove per row cost more than the copy: fixed-size chunks
// inline into vector moves.
inline void copy_floats(const float* src, int64_t n, float* dst) {
  constexpr int64_t kChunk = 8;
  for (; n >= kChunk; n -= kChunk, src += kChunk, dst += kChunk) {
    std::memcpy(dst, src, kChunk * sizeof(float));
  }
  for (int64_t i = 0; i < n; ++i) dst[i] = src[i];
}

// Input channels up to which a layer reads its windows in place (an RGB stem's 3): above,
// im2col rows are long enough for the copy to cost little next to the GEMM.
constexpr int64_t kMaxInPlaceChannels = 4;

bool all_finite(const float* v, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    if (!std::isfinite(v[i])) return false;
  }
  return true;
}

// The direct path's per-thread arrays, carved from the scratch (or only measured).
struct DirectScratch {
  const float** pixels;  // per tile pixel: its window's first float in the padded copy
  float** out;
  size_t size;

  explicit DirectScratch(uint8_t* buffer) {
    ScratchCarver carve(buffer);
    pixels = carve.take<const float*>(kConvTilePixels);
    out = carve.take<float*>(kConvTilePixels);
    size = carve.size();
  }
};

}  // namespace

FloatConvCore::FloatConvCore(const NodeChecker& check, const ConvGeometry& geom, int64_t group,
                             int64_t in_channels, int64_t out_channels, const float* weights_ohwi,
                             Isa isa, const float* bias, bool relu, bool input_nchw)
    : geom_(geom),
      group_(group),
      in_channels_(in_channels),
      out_channels_(out_channels),
      k_per_group_(geom.kh * geom.kw * (in_channels / group)),
      input_nchw_(input_nchw),
      interleave_(select_interleave(isa)),
      sgemm_(select_sgemm(isa)) {
  if (group < 1 || in_channels % group != 0 || out_channels % group != 0) {
    check.fail("channels (in " + std::to_string(in_channels) + ", out " +
               std::to_string(out_channels) + ") must be multiples of group (" +
               std::to_string(group) + ")");
  }
  if (input_nchw && in_channels > kMaxInterleavedPlanes) {
    check.fail("input_layout 'nchw' takes at most " + std::to_string(kMaxInterleavedPlanes) +
               " input channels (an image), got " + std::to_string(in_channels));
  }
  direct_ = geom.kh == 1 && geom.kw == 1 && geom.stride_h == 1 && geom.stride_w == 1 &&
            geom.pad_top == 0 && geom.pad_left == 0 && geom.pad_bottom == 0 &&
            geom.pad_right == 0 && group == 1;
  const int64_t og = out_channels / group;
  sconv_ = select_sconv(isa, out_channels);
  // The direct kernel only on the ISA it was written for (no slower stand-in), and only with
  // finite weights: a skipped padded tap then adds exactly what im2col's 0 * w adds.
  windows_in_place_ = !direct_ && group == 1 && sconv_.isa == isa &&
                      in_channels <= kMaxInPlaceChannels &&
                      all_finite(weights_ohwi, out_channels * k_per_group_);
  fused_bias_ = bias;
  fused_relu_ = relu;
  if (windows_in_place_) {
    sconv_weights_ = pack_float_weights(weights_ohwi, out_channels, k_per_group_, sconv_.nb);
    return;
  }
  for (int64_t g = 0; g < group; ++g) {
    weights_.push_back(
        pack_float_weights(weights_ohwi + g * og * k_per_group_, og, k_per_group_, sgemm_.nr));
  }
}

TensorInfo FloatConvCore::infer(const NodeChecker& check, const TensorInfo& x) const {
  if (!input_nchw_) return conv_output_info(check, geom_, in_channels_, out_channels_, x);
  check.rank(x, 4, "input (NCHW)");
  const NhwcExtents e = nhwc_extents(x.shape);
  return conv_output_info(check, geom_, in_channels_, out_channels_,
                          {x.dtype, Shape(e.begin(), e.end())});
}

size_t FloatConvCore::scratch_bytes() const {
  if (windows_in_place_) return DirectScratch(nullptr).size;
  return direct_ ? 0 : static_cast<size_t>(kConvTilePixels * k_per_group_) * sizeof(float);
}

FloatConvCore::NhwcExtents FloatConvCore::nhwc_extents(const Shape& x) const {
  if (input_nchw_) return {x[0], x[2], x[3], x[1]};
  return {x[0], x[1], x[2], x[3]};
}

FloatConvCore::NhwcInput FloatConvCore::nhwc_input(const Tensor& x, const RunContext& ctx) const {
  const NhwcExtents shape = nhwc_extents(x.shape());
  if (!input_nchw_) return {x.f32(), shape};
  return {reinterpret_cast<const float*>(ctx.shared_scratch), shape};
}

void FloatConvCore::interleave_row(const Tensor& x, int64_t n, int64_t iy, float* dst) const {
  const Shape& xs = x.shape();
  const int64_t plane = xs[2] * xs[3];
  interleave_(x.f32() + n * xs[1] * plane + iy * xs[3], xs[1], plane, 0, xs[3], dst);
}

FloatConvCore::PaddedLayout FloatConvCore::padded(const NhwcExtents& x) const {
  const int64_t height = x[1] + geom_.pad_top + geom_.pad_bottom;
  const int64_t width = x[2] + geom_.pad_left + geom_.pad_right;
  return {height, width, round_up(height * width * in_channels_, 16)};  // 64-byte images
}

FloatConvCore::DirectInput FloatConvCore::direct_input(const NhwcExtents& x,
                                                       uint8_t* shared) const {
  const PaddedLayout layout = padded(x);
  ScratchCarver carve(shared);
  float* images = carve.take<float>(x[0] * layout.image_floats);  // whole 64-byte lines
  int64_t* offsets = carve.take<int64_t>(k_per_group_);
  return {layout, images, offsets, carve.size()};
}

size_t FloatConvCore::shared_scratch_bytes(const TensorInfo& x) const {
  if (windows_in_place_) return direct_input(nhwc_extents(x.shape), nullptr).size;
  return input_nchw_ ? static_cast<size_t>(num_elements(x.shape)) * sizeof(float) : 0;
}

// The direct path's input: each image copied with its zero padding around it, so that every
// window is whole and the kernels see one offset table. Its zeros add what im2col's do (+0 * w
// for finite weights), so the sums are the sgemm path's, bit for bit.
void FloatConvCore::prepare(const NodeChecker&, const Tensor& x, const RunContext& ctx) const {
  if (!windows_in_place_) {
    if (!input_nchw_) return;
    const NhwcExtents xs = nhwc_extents(x.shape());
    float* copy = reinterpret_cast<float*>(ctx.shared_scratch);
    parallel_for(xs[0] * xs[1], ctx.num_threads, [&](int64_t row, int) {
      interleave_row(x, row / xs[1], row % xs[1], copy + row * xs[2] * xs[3]);
    });
    return;
  }
  const NhwcExtents xs = nhwc_extents(x.shape());
  const DirectInput input = direct_input(xs, ctx.shared_scratch);
  const PaddedLayout& layout = input.layout;
  const int64_t c = in_channels_, row = layout.width * c;
  for (int64_t k = 0; k < k_per_group_; ++k) {
    const int64_t tap = k / c, ky = tap / geom_.kw, kx = tap % geom_.kw;
    input.offsets[k] = (ky * geom_.dilation_h * layout.width + kx * geom_.dilation_w) * c + k % c;
  }
  float* images = input.images;
  parallel_for(xs[0] * layout.height, ctx.num_threads, [&](int64_t task, int) {
    const int64_t n = task / layout.height, py = task % layout.height, iy = py - geom_.pad_top;
    float* dst = images + n * layout.image_floats + py * row;
    if (iy < 0 || iy >= xs[1]) {
      std::fill(dst, dst + row, 0.0f);
      return;
    }
    const int64_t left = geom_.pad_left * c, inside = xs[2] * c;
    std::fill(dst, dst + left, 0.0f);
    if (input_nchw_) {
      interleave_row(x, n, iy, dst + left);
    } else {
      std::memcpy(dst + left, x.f32() + (n * xs[1] + iy) * inside, inside * sizeof(float));
    }
    std::fill(dst + left + inside, dst + row, 0.0f);
  });
}

// Every window is whole in the padded copy, read in place by the sconv kernel through the
// offsets of its taps (without dilation, each window row is kw * C contiguous floats).
void FloatConvCore::compute_direct(int64_t n, int64_t p0, int64_t count, int64_t out_w,
                                   const NhwcExtents& xs, float* out, OutputChannels channels,
                                   const RunContext& ctx, uint8_t* scratch) const {
  const int64_t c = in_channels_;
  const DirectInput input = direct_input(xs, ctx.shared_scratch);
  const float* image = input.images + n * input.layout.image_floats;
  DirectScratch s(scratch);
  tile_pixels(p0, count, out_w, image, geom_.stride_h * input.layout.width * c, geom_.stride_w * c,
              out, out_channels_, s.pixels, s.out);
  // Tiles of equal height (a 55-pixel row: five of 6 and five of 5, not nine of 6 and one of 1):
  // a tile of one or two pixels has too few independent sums to hide the FMA latency, and costs
  // about what a whole tile does.
  const int64_t tiles = (count + sconv_.mr - 1) / sconv_.mr;
  for (int64_t o = channels.begin; o < channels.end; o += sconv_.nb) {
    const float* panel = sconv_weights_.from(o);
    const int64_t block = std::min<int64_t>(sconv_.nb, channels.end - o);
    for (int64_t t = 0, i = 0; t < tiles; ++t) {
      const int64_t rows = count / tiles + (t < count % tiles ? 1 : 0);
      sconv_.fn(rows, k_per_group_, input.offsets, s.pixels + i, panel, s.out + i, o, block,
                fused_bias_ ? fused_bias_ + o : nullptr, fused_relu_);
      i += rows;
    }
  }
}

int64_t FloatConvCore::channel_block() const {
  if (group_ != 1) return 0;
  return windows_in_place_ ? sconv_.nb : sgemm_.nr;
}

void FloatConvCore::compute(const Tensor& x, int64_t n, int64_t p0, int64_t count, int64_t out_w,
                            float* y_tile, OutputChannels channels, const RunContext& ctx,
                            uint8_t* scratch) const {
  if (windows_in_place_) {
    return compute_direct(n, p0, count, out_w, nhwc_extents(x.shape()), y_tile, channels, ctx,
                          scratch);
  }
  float* cols = reinterpret_cast<float*>(scratch);
  const NhwcInput input = nhwc_input(x, ctx);
  const NhwcExtents& xs = input.shape;
  const int64_t cg = in_channels_ / group_;
  // One group, or all channels: a group's columns are [g * og, (g + 1) * og).
  const int64_t og = group_ == 1 ? channels.end - channels.begin : out_channels_ / group_;
  const int64_t o0 = group_ == 1 ? channels.begin : 0;
  if (direct_) {
    const float* x_tile = input.data + (n * xs[1] * xs[2] + p0) * in_channels_;
    sgemm_.fn(count, og, k_per_group_, x_tile, in_channels_, weights_[0].from(o0), y_tile + o0,
              out_channels_, fused_bias_ ? fused_bias_ + o0 : nullptr, fused_relu_);
    return;
  }
  for (int64_t g = 0; g < group_; ++g) {
    for (int64_t p = 0; p < count; ++p) {
      const int64_t oy = (p0 + p) / out_w, ox = (p0 + p) % out_w;
      float* row = cols + p * k_per_group_;
      const int64_t x0 = ox * geom_.stride_w - geom_.pad_left;
      // With one group and no dilation, a window row inside the image is one contiguous run of
      // kw * C floats: copy it at once (the stem's 3-channel taps would be 12-byte copies).
      const bool contiguous_rows =
          group_ == 1 && geom_.dilation_w == 1 && x0 >= 0 && x0 + geom_.kw <= xs[2];
      for (int64_t ky = 0; ky < geom_.kh; ++ky) {
        const int64_t iy = oy * geom_.stride_h - geom_.pad_top + ky * geom_.dilation_h;
        float* dst_row = row + ky * geom_.kw * cg;
        if (iy < 0 || iy >= xs[1]) {
          std::fill(dst_row, dst_row + geom_.kw * cg, 0.0f);
          continue;
        }
        const float* src_row = input.data + (n * xs[1] + iy) * xs[2] * in_channels_ + g * cg;
        if (contiguous_rows) {
          copy_floats(src_row + x0 * in_channels_, geom_.kw * in_channels_, dst_row);
          continue;
        }
        for (int64_t kx = 0; kx < geom_.kw; ++kx) {
          const int64_t ix = x0 + kx * geom_.dilation_w;
          float* dst = dst_row + kx * cg;
          if (ix < 0 || ix >= xs[2]) {
            std::fill(dst, dst + cg, 0.0f);
          } else {
            copy_floats(src_row + ix * in_channels_, cg, dst);
          }
        }
      }
    }
    const int64_t first = o0 + g * og;  // the call's first output channel
    sgemm_.fn(count, og, k_per_group_, cols, k_per_group_, weights_[g].from(o0), y_tile + first,
              out_channels_, fused_bias_ ? fused_bias_ + first : nullptr, fused_relu_);
  }
}

}  // namespace xnorinfer
