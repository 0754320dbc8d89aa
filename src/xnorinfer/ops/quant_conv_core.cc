#include "xnorinfer/ops/quant_conv_core.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "xnorinfer/base/bits.h"
#include "xnorinfer/base/parallel.h"
#include "xnorinfer/base/scratch_carver.h"
#include "xnorinfer/kernels/bfconv/bf16_panels.h"
#include "xnorinfer/kernels/qconv/int8_quantize.h"

namespace xnorinfer {
namespace {

constexpr int kWeightMax = 127;  // symmetric int8
// int8 window bytes (kh * row bytes) up to which |sum(q_x * q_w) - z * sum(q_w)| < 2^31.
constexpr int64_t kMaxWindowBytes = (int64_t{1} << 31) / (2 * kActivationMax * kWeightMax);
// The smallest activation scale: keeps 1 / scale finite for an all-zero (or tiny) image.
constexpr float kMinScale = 1e-30f;

// Per-thread arrays of a tile, carved from the scratch (or only measured).
struct TileScratch {
  const uint8_t** pixels;
  float** out;
  int32_t* correction;  // per output channel, for the tile's image
  float* multiplier;
  size_t size;

  TileScratch(int64_t out_channels, uint8_t* buffer) {
    ScratchCarver carve(buffer);
    pixels = carve.take<const uint8_t*>(kConvTilePixels);
    out = carve.take<float*>(kConvTilePixels);
    correction = carve.take<int32_t>(out_channels);
    multiplier = carve.take<float>(out_channels);
    size = carve.size();
  }
};

const char* name_of(QuantConvCore::Precision precision) {
  return precision == QuantConvCore::Precision::kInt8 ? "int8" : "bf16";
}

}  // namespace

QuantConvCore::QuantConvCore(const NodeChecker& check, Precision precision,
                             const ConvGeometry& geom, int64_t in_channels, int64_t out_channels,
                             const float* weights_ohwi, const float* bias, bool relu, Isa isa)
    : precision_(precision),
      geom_(geom),
      in_channels_(in_channels),
      out_channels_(out_channels),
      element_bytes_(precision == Precision::kInt8 ? 1 : 2),
      row_bytes_(round_up(geom.kw * in_channels * element_bytes_, 4)),
      qconv_(select_qconv(isa)),
      bfconv_(select_bfconv(isa)),
      mr_(precision == Precision::kInt8 ? qconv_.mr : bfconv_.mr),
      nb_(precision == Precision::kInt8 ? qconv_.nb : bfconv_.nb),
      bias_(bias ? std::vector<float>(bias, bias + out_channels)
                 : std::vector<float>(static_cast<size_t>(out_channels), 0.0f)),
      relu_(relu) {
  const std::string name = name_of(precision);
  if (geom.dilation_w != 1) check.fail("precision " + name + " needs dilations[1] == 1");
  if (precision == Precision::kInt8 && geom.kh * row_bytes_ > kMaxWindowBytes) {
    check.fail("precision " + name + " takes windows of up to " + std::to_string(kMaxWindowBytes) +
               " bytes (kh * kw * C elements, each row "
               "rounded up to 4 bytes), got " +
               std::to_string(geom.kh * row_bytes_));
  }
  const int64_t window = geom.kh * geom.kw * in_channels;
  for (int64_t i = 0; i < out_channels * window; ++i) {
    if (!std::isfinite(weights_ohwi[i])) check.fail("precision " + name + " needs finite weights");
  }
  panel_bytes_ = geom.kh * row_bytes_ * nb_;
  panels_ = AlignedBuffer(static_cast<size_t>(round_up(out_channels, nb_) / nb_ * panel_bytes_));
  if (precision == Precision::kInt8) {
    pack_int8_weights(check, weights_ohwi);
  } else {
    pack_bf16_panels(weights_ohwi, out_channels, geom.kh, geom.kw * in_channels, row_bytes_, nb_,
                     panels_.data());  // zero-initialized: +0.0 in bf16
  }
}

void QuantConvCore::pack_int8_weights(const NodeChecker&, const float* weights_ohwi) {
  const int64_t row = geom_.kw * in_channels_, window = geom_.kh * row;
  int8_t* panels = reinterpret_cast<int8_t*>(panels_.data());  // zero-initialized
  weight_scale_.resize(static_cast<size_t>(out_channels_));
  weight_sum_.resize(static_cast<size_t>(out_channels_));
  for (int64_t o = 0; o < out_channels_; ++o) {
    const float* w = weights_ohwi + o * window;
    float amax = 0.0f;
    for (int64_t i = 0; i < window; ++i) amax = std::max(amax, std::fabs(w[i]));
    const float scale = amax > 0.0f ? amax / kWeightMax : 1.0f;
    weight_scale_[o] = scale;
    int8_t* panel = panels + (o / nb_) * panel_bytes_;
    int32_t sum = 0;
    for (int64_t r = 0; r < geom_.kh; ++r) {
      for (int64_t k = 0; k < row; ++k) {
        const float q = std::nearbyint(w[r * row + k] / scale);
        const int8_t v = static_cast<int8_t>(std::clamp(q, -1.0f * kWeightMax, 1.0f * kWeightMax));
        const int64_t byte = r * row_bytes_ + k;
        panel[(byte / 4) * nb_ * 4 + (o % nb_) * 4 + byte % 4] = v;
        sum += v;
      }
    }
    weight_sum_[o] = sum;
  }
}

TensorInfo QuantConvCore::infer(const NodeChecker& check, const TensorInfo& x) const {
  return conv_output_info(check, geom_, in_channels_, out_channels_, x);
}

size_t QuantConvCore::scratch_bytes() const { return TileScratch(out_channels_, nullptr).size; }

QuantConvCore::PaddedLayout QuantConvCore::padded(const Shape& x) const {
  const int64_t height = x[1] + geom_.pad_top + geom_.pad_bottom;
  const int64_t width = x[2] + geom_.pad_left + geom_.pad_right;
  // Slack past the last row: a window row reads row_bytes_, up to 3 more than its elements.
  return {height, width, round_up(height * width * in_channels_ * element_bytes_ + row_bytes_, 64)};
}

int64_t QuantConvCore::header_bytes(int64_t batch) {
  return round_up(batch * int64_t{sizeof(ImageQuantization)}, 64) +
         round_up(batch * kRangeChunks * int64_t{sizeof(RangePart)}, 64);
}

size_t QuantConvCore::shared_scratch_bytes(const TensorInfo& x) const {
  return static_cast<size_t>(header_bytes(x.shape[0]) + x.shape[0] * padded(x.shape).image_bytes);
}

// Per image, its quantization (int8) and its padded copy, in the shared scratch. An image
// holding NaN or infinity is refused: int8 finds it measuring the range, bf16 converting.
void QuantConvCore::prepare(const NodeChecker& check, const Tensor& x,
                            const RunContext& ctx) const {
  const Shape& xs = x.shape();
  const int64_t batch = xs[0];
  auto* params = reinterpret_cast<ImageQuantization*>(ctx.shared_scratch);
  if (precision_ == Precision::kInt8) quantize_images(check, x, ctx, params);
  const PaddedLayout layout = padded(xs);
  uint8_t* images = ctx.shared_scratch + header_bytes(batch);
  const int64_t row = layout.width * in_channels_ * element_bytes_;
  LowestItem not_finite(batch);
  parallel_for(batch * layout.height, ctx.num_threads, [&](int64_t task, int) {
    const int64_t n = task / layout.height, py = task % layout.height;
    uint8_t* image = images + n * layout.image_bytes;
    if (!convert_row(x, n, py, params[n], image + py * row)) not_finite.report(n);
    if (py == layout.height - 1) {  // the slack, read with zero weights
      std::memset(image + layout.height * row, 0,
                  static_cast<size_t>(layout.image_bytes - layout.height * row));
    }
  });
  if (not_finite.any()) refuse_image(check, not_finite.item());
}

void QuantConvCore::quantize_images(const NodeChecker& check, const Tensor& x,
                                    const RunContext& ctx, ImageQuantization* params) const {
  const Shape& xs = x.shape();
  const int64_t batch = xs[0];
  const int64_t image_floats = xs[1] * xs[2] * in_channels_;
  auto* parts = reinterpret_cast<RangePart*>(
      ctx.shared_scratch + round_up(batch * int64_t{sizeof(ImageQuantization)}, 64));
  const int64_t chunk = (image_floats + kRangeChunks - 1) / kRangeChunks;
  parallel_for(batch * kRangeChunks, ctx.num_threads, [&](int64_t task, int) {
    const int64_t begin = std::min(task % kRangeChunks * chunk, image_floats);
    const int64_t end = std::min(begin + chunk, image_floats);
    RangePart& part = parts[task];
    qconv_.range(x.f32() + task / kRangeChunks * image_floats + begin, end - begin, &part.lo,
                 &part.hi, &part.finite);
  });
  for (int64_t n = 0; n < batch; ++n) {  // min and max are exact: any chunking gives these
    float lo = 0.0f, hi = 0.0f;
    bool finite = true;
    for (const RangePart* part = parts + n * kRangeChunks; part < parts + (n + 1) * kRangeChunks;
         ++part) {
      lo = std::min(lo, part->lo);
      hi = std::max(hi, part->hi);
      finite = finite && part->finite;
    }
    if (!finite) refuse_image(check, n);
    const float scale = std::max((hi - lo) / kActivationMax, kMinScale);
    const float zero = std::clamp(std::nearbyint(-lo / scale), 0.0f, 1.0f * kActivationMax);
    params[n] = {scale, 1.0f / scale, static_cast<int32_t>(zero)};
  }
}

void QuantConvCore::refuse_image(const NodeChecker& check, int64_t n) const {
  check.fail_input("image " + std::to_string(n) + " of the input holds NaN or infinity, " +
                   "which precision " + name_of(precision_) + " does not take");
}

bool QuantConvCore::convert_row(const Tensor& x, int64_t n, int64_t py, const ImageQuantization& q,
                                uint8_t* dst) const {
  const Shape& xs = x.shape();
  const int64_t c = in_channels_, e = element_bytes_;
  const int64_t row = (xs[2] + geom_.pad_left + geom_.pad_right) * c * e;
  // The converted 0.0: the zero point in uint8, +0.0 (all bits 0) in bf16.
  const int pad = precision_ == Precision::kInt8 ? q.zero : 0;
  const int64_t iy = py - geom_.pad_top;
  if (iy < 0 || iy >= xs[1]) {
    std::memset(dst, pad, static_cast<size_t>(row));
    return true;
  }
  const int64_t left = geom_.pad_left * c * e, inside = xs[2] * c;
  const float* src = x.f32() + ((n * xs[1] + iy) * xs[2]) * c;
  std::memset(dst, pad, static_cast<size_t>(left));
  bool finite = true;  // int8: checked with the range
  if (precision_ == Precision::kInt8) {
    qconv_.quantize_row(src, inside, q.inverse, q.zero, dst + left);
  } else {
    finite = bfconv_.round_row(src, inside, dst + left);
  }
  std::memset(dst + left + inside * e, pad, static_cast<size_t>(row - left - inside * e));
  return finite;
}

int64_t QuantConvCore::channel_block() const { return nb_; }

void QuantConvCore::compute(const Tensor& x, int64_t n, int64_t p0, int64_t count, int64_t out_w,
                            float* out, OutputChannels channels, const RunContext& ctx,
                            uint8_t* scratch) const {
  const Shape& xs = x.shape();
  const int64_t c = in_channels_, oc = out_channels_;
  const PaddedLayout layout = padded(xs);
  const ImageQuantization& q = reinterpret_cast<const ImageQuantization*>(ctx.shared_scratch)[n];
  const uint8_t* image = ctx.shared_scratch + header_bytes(xs[0]) + n * layout.image_bytes;
  TileScratch s(oc, scratch);
  const int64_t e = element_bytes_;
  tile_pixels(p0, count, out_w, image, geom_.stride_h * layout.width * c * e,
              geom_.stride_w * c * e, out, oc, s.pixels, s.out);
  const int64_t row_stride = geom_.dilation_h * layout.width * c * e;
  if (precision_ == Precision::kBf16) {
    for (int64_t o = channels.begin; o < channels.end; o += nb_) {
      const uint8_t* panel = panels_.data() + (o / nb_) * panel_bytes_;
      for (int64_t i = 0; i < count; i += mr_) {
        bfconv_.fn(std::min(mr_, count - i), geom_.kh, row_stride, row_bytes_, s.pixels + i, panel,
                   bias_.data() + o, relu_, s.out + i, o, std::min(nb_, channels.end - o));
      }
    }
    return;
  }
  for (int64_t o = channels.begin; o < channels.end; ++o) {
    s.correction[o] = q.zero * weight_sum_[o];
    s.multiplier[o] = q.scale * weight_scale_[o];
  }
  const int8_t* panels = reinterpret_cast<const int8_t*>(panels_.data());
  for (int64_t o = channels.begin; o < channels.end; o += nb_) {
    const int8_t* panel = panels + (o / nb_) * panel_bytes_;
    const QconvOutput output{s.correction + o, s.multiplier + o, bias_.data() + o, relu_};
    for (int64_t i = 0; i < count; i += mr_) {
      qconv_.fn(std::min(mr_, count - i), geom_.kh, row_stride, row_bytes_, s.pixels + i, panel,
                output, s.out + i, o, std::min(nb_, channels.end - o));
    }
  }
}

}  // namespace xnorinfer
