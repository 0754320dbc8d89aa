// BinaryConv2d: packed NHWC input, packed weights, XNOR + popcount through the bconv kernels,
// then the output transform (output_transform.h). Each output pixel is a pointer to its first
// valid tap; the pixels of a tile are grouped by which taps fall inside the image
// (conv_taps.h), and one kernel call serves up to MR pixels of a group through their shared tap
// list, so there is no im2col copy and no per-tap pointer table. The grouping depends only on
// the input shape, so it is made once per shape (prepare) and runs only point pixels at it.
//
// Padding: a packed bit cannot hold ONNX's zero padding, so padded taps are never read. With
// zero padding they add nothing and a border pixel simply has fewer products; with pad_value
// +1 or -1 (Keras/Larq one-padding) what they would add comes from each tap's weight
// popcounts.
//
// Groups whose channels do not start on a word boundary are first gathered into contiguous
// rows (their valid taps back to back); everything else is read in place.
//
// Ternary input (ONNX Sign(0) = 0, see base/tensor.h): the masked kernels count only nonzero
// activations; a pixel's number of products is the popcount of its valid taps' masks.
//
// Real-valued shortcuts (Bi-Real, ReActNet): a `residual` input is added to the float output in
// the same pass, then an optional activation (activation.h), and a second output can hold the
// result's packed signs for the next binary layer, so the block's float sum is written once and
// never re-read to be binarized.
//
// With output_layout "nchw" (a float output and nothing added to it) y is [N, O, Ho, Wo]: each
// task writes its tile's output rows into its scratch and transposes them into the planes, so a
// network's NCHW output costs no separate Transpose pass.
#include <algorithm>
#include <cstring>
#include <memory>

#include "xnorinfer/base/errors.h"
#include "xnorinfer/base/parallel.h"
#include "xnorinfer/base/scratch_carver.h"
#include "xnorinfer/graph/limits.h"
#include "xnorinfer/kernels/registry.h"
#include "xnorinfer/kernels/transpose/transpose.h"
#include "xnorinfer/ops/binary_epilogue.h"
#include "xnorinfer/ops/binary_weights.h"
#include "xnorinfer/ops/bit_copy.h"
#include "xnorinfer/ops/channel_split.h"
#include "xnorinfer/ops/conv_geometry.h"
#include "xnorinfer/ops/conv_taps.h"
#include "xnorinfer/ops/op_registry.h"
#include "xnorinfer/ops/op_schema.h"

namespace xnorinfer {
namespace {

// Output pixels per task: this many kernel calls per weight block, so a block is reused from
// L1 across the tile.
constexpr int64_t kMinKernelCallsPerTile = 4;
constexpr int64_t kMaxKernelCallsPerTile = 16;
// Pixels of a tile of whole rows (when the kernels write the whole output, see tile_pixels).
constexpr int64_t kMaxRowTilePixels = 1024;
// And at least this many where the image allows: a 7x7 or 14x14 output then fits one or two
// tiles, which two threads split into equal halves by channels (0.05-0.1x more 2-thread speedup
// on those layers than tiles of mr rows, measured on a Xeon).
constexpr int64_t kMinRowTilePixels = 128;
constexpr int64_t kTileCountsBytes = 16 * 1024;
// A pixel's setup in each task (its row pointers, its share of the kernel calls) costs about
// what this many bits of one channel's dot product do: some 90 cycles at the AVX-512 kernel's
// 340 bits per cycle. In channels of a row (split_rows_and_channels' row_setup) that is 52 for
// a 64-channel 3x3 layer: splitting its 128 output channels into two tasks per tile cost the
// stride-2 56x56 layer 5-8% on 2 threads, and 16 tasks instead of 4 cost the 7x7x512 layer
// 4-5% on one (a Xeon; 10000 bits, fitted on an EPYC, chose too many tasks there).
constexpr double kPixelSetupBits = 30000.0;
// Kernel windows up to 16x16 taps; larger ones are refused when the op is created.
constexpr int64_t kMaxTaps = 256;

// Input slots, by their names in the op schema (op_schema.cc); the epilogue
// (binary_epilogue.h) reads scale, bias, out_offset, post_scale, post_bias and sum_offset.
int slot(const char* name) { return op_schema("BinaryConv2d").input(name); }
const int kX = slot("x"), kWeight = slot("weight"), kKmapSrc = slot("kmap_src"),
          kResidual = slot("residual");

class BinaryConv2d final : public Op {
 public:
  explicit BinaryConv2d(const OpArgs& args)
      : check_(args.node), geom_(ConvGeometry::parse(args.node)), kernel_{} {
    const AttrMap& a = args.node.attrs;
    group_ = a.get_int("group", 1);  // bounds: op_schema.cc
    in_channels_ = a.get_int("in_channels");
    pad_value_ = a.get_int("pad_value", 0);
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
    count_bits_ = select_count_bits(args.isa);
    num_threads_ = args.num_threads;
    weights_ = block_binary_weights(check_, w, out_channels_, group_, geom_.kh * geom_.kw,
                                    bits_per_group_, kernel_.nb, kernel_.lane_bits);
    // Groups that start mid-word are gathered into contiguous rows (point_pixels).
    gather_rows_ = group_ > 1 && bits_per_group_ % kBitsPerWord != 0;
    // Tiles of up to 16 kernel calls while their counts stay within 16 KiB: wide tiles let
    // the border pixels of several rows share calls (see conv_taps.h) and amortize the setup.
    counts_stride_ = group_ * weights_.blocks_per_group * weights_.block;
    tile_pixels_ =
        kernel_.mr * std::clamp<int64_t>(kTileCountsBytes / (kernel_.mr * 4 * counts_stride_),
                                         kMinKernelCallsPerTile, kMaxKernelCallsPerTile);

    const std::string scaling = a.get_string("scaling", "kmap");
    if (scaling != "kmap" && scaling != "sample") check_.fail("scaling must be 'kmap' or 'sample'");
    sample_scaling_ = scaling == "sample";
    with_kmap_ = check_.has_input(kKmapSrc);
    if (with_kmap_) {
      if (args.constants[kKmapSrc]) check_.fail("kmap_src must be a computed value");
      if (!sample_scaling_)
        kmap_kernel_value_ = static_cast<float>(a.get_float("kmap_kernel_value"));
    }
    epilogue_ = BinaryEpilogue(check_, args, out_channels_, geom_.kh * geom_.kw * bits_per_group_,
                               with_kmap_);
    // Ternary: the mask words sit one sign plane (all channels' words) after the sign words.
    mask_offset_ = words_for_bits(in_channels_);
    nchw_out_ = check_.nchw_layout("output_layout");
    if (nchw_out_ &&
        (epilogue_.packed() || epilogue_.with_residual() || epilogue_.with_sum_bits())) {
      check_.fail("output_layout 'nchw' needs a float output with no residual and no y_bits");
    }
    transpose_tile_ = select_transpose(args.isa);
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
    const Shape out_shape = {x.shape[0], geom_.out_h(x.shape[1]), geom_.out_w(x.shape[2]),
                             out_channels_};
    if (epilogue_.with_residual()) {
      check_.dtype(*in[kResidual], DType::kFloat32, "residual");
      if (in[kResidual]->shape != out_shape) {
        check_.fail("residual must have the output's shape " + to_string(out_shape) + ", got " +
                    to_string(in[kResidual]->shape));
      }
    }
    if (nchw_out_) {
      return {{DType::kFloat32, {out_shape[0], out_shape[3], out_shape[1], out_shape[2]}}};
    }
    std::vector<TensorInfo> out = {
        {epilogue_.packed() ? DType::kBits : DType::kFloat32, out_shape}};
    if (epilogue_.with_sum_bits()) out.push_back({DType::kBits, out_shape});
    return out;
  }

  // Where the kernels write every window's output, each reads a pixel's residual just before
  // it writes the same channels: the sum can take the residual's bytes, which the shortcut has
  // just written (a region in cache) rather than a second one. (The other epilogue writes a row
  // before it adds the residual.)
  int overwritable_input() const override {
    const bool kernels_write_all = writes_float(0) && pad_value_ == 0;
    return epilogue_.with_residual() && kernels_write_all ? kResidual : -1;
  }

  // Float rows go out through masked or scalar tails, sign bits a word at a time, the NCHW
  // planes through the transpose's edge loops: no byte outside the output.
  bool writes_exactly_its_outputs() const override { return true; }

  size_t scratch_bytes(const std::vector<const TensorInfo*>& in) const override {
    return Scratch(*this, max_tile_pixels(geom_.out_w(in[kX]->shape[2])), nullptr).size;
  }

  // The image's tiles classified once per input shape (conv_taps.h).
  std::shared_ptr<const OpState> prepare(const std::vector<const TensorInfo*>& in) const override {
    const Shape& xs = in[kX]->shape;
    const int64_t out_h = geom_.out_h(xs[1]), out_w = geom_.out_w(xs[2]);
    auto state = std::make_shared<TilePlan>();
    int64_t tile_pixels = tile_pixels_;
    // A chunk is a whole number of 64-channel words (and so of kernel blocks), so packed
    // outputs never share a word between tasks; with groups, a task keeps all channels.
    const int64_t chunk_block = group_ > 1 ? 0 : kBitsPerWord;
    if (writes_float(0)) {  // 0 valid taps: true for every window
      const double row_setup =
          kPixelSetupBits / static_cast<double>(weights_.taps * bits_per_group_);
      const RowChannelSplit split = split_rows_and_channels(
          xs[0], out_h, tile_rows(out_w), out_channels_, chunk_block, num_threads_, row_setup);
      tile_pixels = std::max(tile_pixels_, split.rows_per_tile * out_w);
      state->chunk = split.channels_per_task;
    }
    state->taps = plan_image_taps(geom_, xs[1], xs[2], out_h, out_w, in[kX]->last_axis_storage(),
                                  tile_pixels, weights_.taps);
    ImageTapPlan& taps = state->taps;
    if (state->chunk == 0) {
      state->chunk = channel_chunk(xs[0] * taps.tiles(), num_threads_, out_channels_, chunk_block);
    }
    state->products.resize(taps.pixel.size());
    for (size_t c = 0; c < taps.classes.size(); ++c) {
      const ImageTapPlan::Class& cls = taps.classes[c];
      const int64_t valid = cls.window.valid_taps();
      std::fill(state->products.begin() + cls.begin, state->products.begin() + cls.end,
                static_cast<int32_t>(valid * bits_per_group_));
      if (gather_rows_) {  // rows hold each pixel's valid taps back to back
        for (int64_t t = 0; t < valid; ++t) {
          taps.tap_lists[c * taps.max_taps + t].a_offset = t * weights_.words_per_tap;
        }
      }
    }
    return state;
  }

  void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
           const RunContext& ctx) const override {
    XI_DCHECK(ctx.state != nullptr);
    const TilePlan& plan = static_cast<const TilePlan&>(*ctx.state);
    const int64_t tiles_per_image = plan.taps.tiles();
    const int64_t tiles = in[kX]->shape()[0] * tiles_per_image;
    const int64_t chunk = plan.chunk;
    const int64_t chunks = (out_channels_ + chunk - 1) / chunk;
    parallel_for(tiles * chunks, ctx.num_threads, [&](int64_t task, int thread) {
      const int64_t tile = task / chunks, o0 = (task % chunks) * chunk;
      if (chunks > 1 && ctx.num_threads > 1) {
        prefetch_tile_input(*in[kX], tile / tiles_per_image, tile % tiles_per_image, plan);
      }
      run_tile(in, out, tile / tiles_per_image, tile % tiles_per_image, plan,
               {o0, std::min(o0 + chunk, out_channels_)}, ctx.thread_scratch(thread));
    });
  }

 private:
  struct Channels {
    int64_t begin, end;
  };

  // What prepare() works out per input shape.
  struct TilePlan final : OpState {
    ImageTapPlan taps;              // in row mode, tap lists index the gathered rows
    std::vector<int32_t> products;  // per ordered pixel: its valid taps' bits (binary input)
    int64_t chunk = 0;              // output channels per task
  };

  // One tile's view of the plan: its ordered pixels are entries [first, first + count).
  struct PlannedTile {
    int64_t first, count;
    const ImageTapPlan::Class* classes;
    int64_t class_count;
    const BconvTap* tap_lists;  // class c's at c * max_taps
  };

  // One thread's scratch, carved from its buffer (or, with no buffer, only measured). Arrays
  // are per ordered pixel of the tile.
  struct Scratch {
    const Word** bases;           // its first valid tap's words (or its gathered row)
    Word* rows;                   // row mode: its valid taps' words, contiguous
    float** out_rows;             // its float output row
    float* tile_out;              // NCHW output: the tile's rows of out_channels floats
    const float** residual_rows;  // its residual row
    Word** sum_rows;              // its row of the sum's packed signs
    int32_t* products;            // ternary input: its products (the nonzero activations)
    int32_t* counts;              // counts_stride_ counts
    int32_t* pixel_counts;        // one pixel's counts gathered over the groups
    size_t size;

    Scratch(const BinaryConv2d& op, int64_t tp, uint8_t* buffer) {
      ScratchCarver carve(buffer);
      bases = carve.take<const Word*>(tp);
      rows = carve.take<Word>(op.gather_rows_ ? tp * op.weights_.k_words() : 0);
      out_rows = carve.take<float*>(tp);
      tile_out = carve.take<float>(op.nchw_out_ ? tp * op.out_channels_ : 0);
      residual_rows = carve.take<const float*>(tp);
      sum_rows = carve.take<Word*>(tp);
      products = carve.take<int32_t>(tp);
      counts = carve.take<int32_t>(tp * op.counts_stride_);
      pixel_counts = carve.take<int32_t>(op.out_channels_);
      size = carve.size();
    }
  };

  // Points each ordered tile pixel at group g's words of its first valid tap (pointer mode), or
  // copies its valid taps' group-g bits into a contiguous row (row mode, for groups that do not
  // start on a word boundary) and points at that.
  void point_pixels(const Tensor& x, int64_t n, int64_t g, const ImageTapPlan& plan,
                    const PlannedTile& tile, Scratch& s) const {
    const int64_t h = x.shape()[1], w = x.shape()[2];
    const int64_t x_words = x.info.last_axis_storage();
    const Word* const image = x.words() + n * h * w * x_words;
    const int64_t* const first_tap = plan.first_tap.data() + tile.first;
    const Word** const bases = s.bases;
    if (!gather_rows_) {
      const Word* const group_image = image + g * bits_per_group_ / kBitsPerWord;
      for (int64_t i = 0; i < tile.count; ++i) bases[i] = group_image + first_tap[i] * x_words;
      return;
    }
    const int64_t wpt = weights_.words_per_tap;
    for (int64_t c = 0; c < tile.class_count; ++c) {
      const TapWindow& win = tile.classes[c].window;
      for (int64_t i = tile.classes[c].begin - tile.first; i < tile.classes[c].end - tile.first;
           ++i) {
        const Word* first = image + first_tap[i] * x_words;
        Word* row = s.rows + i * weights_.k_words();
        bases[i] = row;
        for (int64_t ky = win.ky0; ky < win.ky1; ++ky) {
          for (int64_t kx = win.kx0; kx < win.kx1; ++kx, row += wpt) {
            const int64_t offset =
                ((ky - win.ky0) * geom_.dilation_h * w + (kx - win.kx0) * geom_.dilation_w) *
                x_words;
            copy_bits(first + offset, g * bits_per_group_, bits_per_group_, row);
          }
        }
      }
    }
  }

  // Ternary input: per ordered pixel, its products are the nonzero ones, counted from the
  // masks of its valid taps.
  void count_nonzero(const PlannedTile& tile, Scratch& s) const {
    for (int64_t c = 0; c < tile.class_count; ++c) {
      const int64_t begin = tile.classes[c].begin - tile.first;
      count_bits_(s.bases + begin, tile.classes[c].end - tile.first - begin,
                  tile.tap_lists + c * weights_.taps, tile.classes[c].window.valid_taps(),
                  weights_.words_per_tap, mask_offset_, s.products + begin);
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
  float kmap_value(const Tensor& a, int64_t n, const TapWindow& win) const {
    const int64_t h = a.shape()[1], w = a.shape()[2];
    float sum = 0.0f;
    for (int64_t ky = win.ky0; ky < win.ky1; ++ky) {
      for (int64_t kx = win.kx0; kx < win.kx1; ++kx) {
        sum +=
            a.f32()[(n * h + win.y0 + ky * geom_.dilation_h) * w + win.x0 + kx * geom_.dilation_w];
      }
    }
    return kmap_kernel_value_ * sum;
  }

  // Whole output rows (`out_w` wide) per tile at most when the kernels write the whole output
  // (no counts to keep in L1): kernel_.mr rows or kMinRowTilePixels (up to kMaxRowTilePixels),
  // so that a tile's left and right border pixels fill whole kernel calls (conv_taps.h groups
  // them) instead of one call each per row. With threads, prepare() may take fewer or up to
  // kMaxTileGrowth times as many, for tiles of equal work.
  int64_t tile_rows(int64_t out_w) const {
    const int64_t pixels = std::max(kernel_.mr * out_w, kMinRowTilePixels);
    return std::max<int64_t>(1, std::min(pixels, kMaxRowTilePixels) / out_w);
  }
  // The most pixels a tile can have (scratch sizes).
  int64_t max_tile_pixels(int64_t out_w) const {
    const int64_t split_rows = (num_threads_ > 1 ? kMaxTileGrowth : 1) * tile_rows(out_w);
    return writes_float(0) ? std::max(tile_pixels_, split_rows * out_w) : tile_pixels_;
  }

  // Whether the kernels write the whole output themselves for windows with `valid` taps: a
  // plain float output (no K map, no groups to gather) whose products need no correction and
  // are at most kMaxFusedDotBits, with at most a residual, a relu and the sum's signs after it.
  bool writes_float(int64_t valid) const {
    return epilogue_.kernel_writes() && group_ == 1 &&
           weights_.taps * bits_per_group_ <= kMaxFusedDotBits &&
           (pad_value_ == 0 || valid == weights_.taps);
  }

  // ±1 padding: what the window's padded taps add, a +1 (or -1) input against the weights
  // differing where the weights are -1 (+1). Adds to counts, returns the products they add.
  int32_t add_padded_taps(const TapWindow& win, Channels channels, int32_t* counts) const {
    int32_t padded = 0;
    for (int64_t ky = 0, t = 0; ky < geom_.kh; ++ky) {
      for (int64_t kx = 0; kx < geom_.kw; ++kx, ++t) {
        if (ky >= win.ky0 && ky < win.ky1 && kx >= win.kx0 && kx < win.kx1) continue;
        ++padded;
        const int32_t* pop = weights_.tap_popcount.data() + t;
        for (int64_t o = channels.begin; o < channels.end; ++o) {
          const int32_t minus = pop[o * weights_.taps];
          counts[o] += pad_value_ == 1 ? minus : static_cast<int32_t>(bits_per_group_) - minus;
        }
      }
    }
    return static_cast<int32_t>(padded * bits_per_group_);
  }

  // The input rows tile t of image n reads, asked into L2 at once. With the channels split,
  // every task reads all of its tile's rows, which the threads that wrote the input (the pack
  // before it, split by rows) hold in their own caches; the kernels' loads found them one line
  // at a time. The 14x14x256->512 stride-2 layer on 2 threads: 24.0 -> 23.1 us (a Xeon).
  void prefetch_tile_input(const Tensor& x, int64_t n, int64_t t, const TilePlan& plan) const {
    constexpr int64_t kMaxPrefetchBytes = 64 * 1024;  // a hint: past that, L2 would only churn
    const int64_t h = x.shape()[1], w = x.shape()[2], out_w = geom_.out_w(w);
    const int64_t first = t * plan.taps.tile_pixels;
    const int64_t last = std::min(first + plan.taps.tile_pixels, geom_.out_h(h) * out_w) - 1;
    const int64_t row_bytes = w * x.info.last_axis_storage() * static_cast<int64_t>(sizeof(Word));
    const int64_t top = first / out_w * geom_.stride_h - geom_.pad_top;
    const int64_t bottom =
        last / out_w * geom_.stride_h - geom_.pad_top + (geom_.kh - 1) * geom_.dilation_h + 1;
    const int64_t r0 = std::clamp<int64_t>(top, 0, h), r1 = std::clamp<int64_t>(bottom, r0, h);
    const char* const rows = reinterpret_cast<const char*>(x.words()) + (n * h + r0) * row_bytes;
    const int64_t bytes = std::min((r1 - r0) * row_bytes, kMaxPrefetchBytes);
    for (int64_t b = 0; b < bytes; b += 64) __builtin_prefetch(rows + b, 0, 2);
  }

  // Tile `t` of image n (see ImageTapPlan), for the given output channels.
  void run_tile(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out, int64_t n,
                int64_t t, const TilePlan& plan, Channels channels, uint8_t* scratch) const {
    const Tensor& x = *in[kX];
    const bool ternary = x.info.dtype == DType::kTernary;
    const Tensor* kmap_src = with_kmap_ ? in[kKmapSrc] : nullptr;
    const float sample_k = kmap_src && sample_scaling_ ? sample_mean(*kmap_src, n) : 0.0f;
    Tensor& y = *out[0];
    const int64_t out_w = geom_.out_w(x.shape()[2]);
    const ImageTapPlan& taps = plan.taps;
    const int64_t pixels_per_image = geom_.out_h(x.shape()[1]) * out_w;
    const int64_t first = t * taps.tile_pixels;
    const PlannedTile tile{first, std::min(taps.tile_pixels, pixels_per_image - first),
                           taps.classes.data() + taps.tile_classes[t],
                           taps.tile_classes[t + 1] - taps.tile_classes[t],
                           taps.tap_lists.data() + taps.tile_classes[t] * taps.max_taps};
    Scratch s(*this, taps.tile_pixels, scratch);
    // Each ordered pixel's rows, from its raster index in the image (locals, not members: the
    // stores could alias them).
    const int64_t* const pixel = taps.pixel.data() + first;
    const int64_t oc = out_channels_, y_words = words_for_bits(out_channels_);
    const int64_t image_first = n * pixels_per_image;
    if (!epilogue_.packed()) {
      // Tile t is raster pixels [first, first + count): NCHW output rows are the scratch's.
      float* const rows = nchw_out_ ? s.tile_out : y.f32() + (image_first + first) * oc;
      float** const out_rows = s.out_rows;
      for (int64_t i = 0; i < tile.count; ++i) out_rows[i] = rows + (pixel[i] - first) * oc;
    }
    if (epilogue_.with_residual()) {
      const float* const rows = in[kResidual]->f32() + image_first * oc;
      const float** const residual_rows = s.residual_rows;
      for (int64_t i = 0; i < tile.count; ++i) residual_rows[i] = rows + pixel[i] * oc;
    }
    if (epilogue_.with_sum_bits()) {
      Word* const rows = out[1]->words() + image_first * y_words;
      Word** const sum_rows = s.sum_rows;
      for (int64_t i = 0; i < tile.count; ++i) sum_rows[i] = rows + pixel[i] * y_words;
    }
    const int32_t* const products = ternary ? s.products : plan.products.data() + first;
    for (int64_t g = 0; g < group_; ++g) {
      point_pixels(x, n, g, taps, tile, s);
      if (ternary) count_nonzero(tile, s);  // group 1 only
      const int64_t first_block = group_ > 1 ? 0 : channels.begin / weights_.block;
      const int64_t end_block = group_ > 1 ? weights_.blocks_per_group
                                           : (channels.end + weights_.block - 1) / weights_.block;
      for (int64_t b = first_block; b < end_block; ++b) {
        const void* block = weights_.block_data(g, b);
        int32_t* block_counts = s.counts + (g * weights_.blocks_per_group + b) * weights_.block;
        for (int64_t c = 0; c < tile.class_count; ++c) {
          const BconvTap* tap_list = tile.tap_lists + c * taps.max_taps;
          const int64_t valid = tile.classes[c].window.valid_taps();
          const int64_t end = tile.classes[c].end - first;
          for (int64_t i = tile.classes[c].begin - first; i < end; i += kernel_.mr) {
            const int64_t mr = std::min<int64_t>(kernel_.mr, end - i);
            int32_t* pixel_block_counts = block_counts + i * counts_stride_;
            const int64_t o = b * weights_.block;
            const BconvFloatOutput to_float = epilogue_.fused(
                products + i, s.out_rows + i, o, std::min(weights_.block, channels.end - o),
                s.residual_rows + i, s.sum_rows + i);
            const BconvFloatOutput* fused = writes_float(valid) ? &to_float : nullptr;
            if (ternary) {
              kernel_.masked(mr, valid, tap_list, weights_.lanes_per_tap, s.bases + i, block,
                             pixel_block_counts, counts_stride_, fused, mask_offset_);
            } else {
              kernel_.fn(mr, valid, tap_list, weights_.lanes_per_tap, s.bases + i, block,
                         pixel_block_counts, counts_stride_, fused);
            }
          }
        }
      }
    }
    const int64_t og = weights_.channels_per_group;
    const int64_t group_stride = weights_.blocks_per_group * weights_.block;
    const int64_t o0 = channels.begin, width = channels.end - channels.begin;
    for (int64_t c = 0; c < tile.class_count; ++c) {
      const TapWindow& window = tile.classes[c].window;
      if (writes_float(window.valid_taps())) continue;  // the kernels did it all
      for (int64_t i = tile.classes[c].begin - first; i < tile.classes[c].end - first; ++i) {
        const int64_t p = pixel[i];
        const TapWindow win = window.at(geom_, p / out_w, p % out_w);
        // Each group's block-padded counts, gathered into one row of out_channels.
        int32_t* counts = s.counts + i * counts_stride_;
        if (group_ > 1) {
          for (int64_t g = 0; g < group_; ++g) {
            std::memcpy(s.pixel_counts + g * og, counts + g * group_stride, og * sizeof(int32_t));
          }
          counts = s.pixel_counts;
        }
        float* y_row = epilogue_.packed() ? nullptr : s.out_rows[i] + o0;
        int32_t pixel_products = products[i];
        if (pad_value_ != 0 && win.valid_taps() < weights_.taps) {
          pixel_products += add_padded_taps(win, channels, counts);
        }
        float k = 0.0f;
        if (kmap_src) k = sample_scaling_ ? sample_k : kmap_value(*kmap_src, n, win);
        Word* bits_row = epilogue_.packed()
                             ? y.words() + (image_first + p) * y_words + o0 / kBitsPerWord
                             : nullptr;
        epilogue_.write(counts + o0, pixel_products, o0, width, k, y_row, bits_row,
                        epilogue_.with_residual() ? s.residual_rows[i] : nullptr,
                        epilogue_.with_sum_bits() ? s.sum_rows[i] : nullptr);
      }
    }
    if (nchw_out_) {
      transpose_matrix(transpose_tile_, s.tile_out + o0, oc, tile.count, width,
                       y.f32() + (n * oc + o0) * pixels_per_image + first, pixels_per_image);
    }
  }

  NodeChecker check_;
  ConvGeometry geom_;
  BconvKernel kernel_;
  CountBitsFn count_bits_ = nullptr;  // a ternary input's products (its nonzero masks)
  int64_t group_ = 1, in_channels_ = 0, out_channels_ = 0, bits_per_group_ = 0, pad_value_ = 0;
  BlockedBinaryWeights weights_;
  bool gather_rows_ = false;  // row mode rather than pointer mode (point_pixels)
  int64_t tile_pixels_ = 0;
  int num_threads_ = 1;
  int64_t counts_stride_ = 0;  // int32 per pixel in the counts scratch
  int64_t mask_offset_ = 0;    // ternary input: words from a sign word to its mask word
  BinaryEpilogue epilogue_;
  bool nchw_out_ = false;  // y is [N, O, Ho, Wo], through the tile's rows in scratch
  TransposeTileFn transpose_tile_ = nullptr;
  bool with_kmap_ = false;
  bool sample_scaling_ = false;  // kmap_src scales by its per-image mean (β), not a box filter
  float kmap_kernel_value_ = 0.0f;
};

}  // namespace

std::unique_ptr<Op> create_binary_conv2d(const OpArgs& args) {
  return std::make_unique<BinaryConv2d>(args);
}

}  // namespace xnorinfer
