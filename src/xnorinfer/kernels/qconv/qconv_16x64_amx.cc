// AMX direct int8 convolution: 16 pixels x 64 output channels in four 16x16 int32 tiles. Per
// 64 bytes of the window, the 16 pixels' bytes are gathered into one A tile (a window's rows
// sit row_stride apart, so a pixel's 64 bytes may come from several rows), and each group of 16
// channels' weights loads as a B tile straight from the VNNI panel (16 rows of 4 bytes x 16
// channels, 256 bytes apart): TDPBUSD multiplies 16 x 64 x 16 bytes, 256 VPDPBUSD's worth, in
// one instruction. The window's last bytes past a multiple of 64 go through a narrower pair of
// tiles. The sums leave through memory into the same epilogue as the VNNI kernel's.
// The tiles are configured at each call and released at its end: other code in the process
// (another engine's kernels) may configure them differently in between.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "xnorinfer/kernels/qconv/qconv.h"
#include "xnorinfer/kernels/qconv/qconv_avx512_output.h"

namespace xnorinfer {
namespace {

constexpr int kMr = 16;     // pixels: an A tile's rows
constexpr int kNr = 4;      // C tiles of 16 channels
constexpr int kChunk = 64;  // window bytes per A tile row
constexpr int kNb = 16 * kNr;

// Tile registers: 0-3 the sums (C), then A and B for whole 64-byte chunks and for the last one
// (GCC's tile intrinsics take register numbers as literals, so the calls below spell them).
constexpr int kA = 4, kB = 5, kTailA = 6, kTailB = 7;

// LDTILECFG's 64-byte operand, palette 1.
struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t bytes_per_row[16] = {};
  uint8_t rows[16] = {};
};

TileConfig tile_config(int64_t tail_bytes) {
  TileConfig c;
  for (int t = 0; t < kNr; ++t) {
    c.rows[t] = kMr;
    c.bytes_per_row[t] = 16 * sizeof(int32_t);
  }
  c.rows[kA] = kMr;
  c.bytes_per_row[kA] = kChunk;
  c.rows[kB] = kChunk / 4;
  c.bytes_per_row[kB] = 16 * 4;
  if (tail_bytes > 0) {
    c.rows[kTailA] = kMr;
    c.bytes_per_row[kTailA] = static_cast<uint16_t>(tail_bytes);
    c.rows[kTailB] = static_cast<uint8_t>(tail_bytes / 4);
    c.bytes_per_row[kTailB] = 16 * 4;
  }
  return c;
}

// Window bytes [begin, begin + length) of each of the mr pixels into rows of `a`, kChunk bytes
// apart: runs split where a window row ends (masked moves read and write only their bytes).
void gather(int64_t mr, const uint8_t* const* pixels, int64_t row_stride, int64_t row_bytes,
            int64_t begin, int64_t length, uint8_t* a) {
  for (int64_t b = begin; b < begin + length;) {
    const int64_t r = b / row_bytes, k = b % row_bytes;
    const int64_t run = std::min(row_bytes - k, begin + length - b);
    const __mmask64 m = run >= 64 ? ~__mmask64{0} : (__mmask64{1} << run) - 1;
    const int64_t from = r * row_stride + k, to = b - begin;
    for (int64_t p = 0; p < mr; ++p) {
      _mm512_mask_storeu_epi8(a + p * kChunk + to, m, _mm512_maskz_loadu_epi8(m, pixels[p] + from));
    }
    b += run;
  }
}

}  // namespace

void qconv_ukernel_16x64__amx(int64_t mr, int64_t rows, int64_t row_stride, int64_t row_bytes,
                              const uint8_t* const* pixels, const int8_t* weights,
                              const QconvOutput& output, float* const* out, int64_t out_offset,
                              int64_t channels) {
  const int64_t window = rows * row_bytes;
  const int64_t tail = window % kChunk;
  const TileConfig config = tile_config(tail);
  _tile_loadconfig(&config);
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  alignas(64) uint8_t a[kMr * kChunk];
  std::memset(a + mr * kChunk, 0, static_cast<size_t>((kMr - mr) * kChunk));  // rows past mr
  constexpr int64_t kPanelRow = kNb * 4;  // bytes of one 4-byte group of the block's channels
  for (int64_t begin = 0; begin < window; begin += kChunk) {
    const int64_t length = std::min<int64_t>(kChunk, window - begin);
    gather(mr, pixels, row_stride, row_bytes, begin, length, a);
    const int8_t* w = weights + (begin / 4) * kPanelRow;
    // The gathered bytes into tile A, then each 16 channels' weights into tile B and onto
    // their sums: a macro, as GCC's tile intrinsics take register numbers as literals.
#define XI_MULTIPLY_CHUNK(A, B)       \
  _tile_loadd(A, a, kChunk);          \
  _tile_loadd(B, w, kPanelRow);       \
  _tile_dpbusd(0, A, B);              \
  _tile_loadd(B, w + 64, kPanelRow);  \
  _tile_dpbusd(1, A, B);              \
  _tile_loadd(B, w + 128, kPanelRow); \
  _tile_dpbusd(2, A, B);              \
  _tile_loadd(B, w + 192, kPanelRow); \
  _tile_dpbusd(3, A, B);
    if (length == kChunk) {
      XI_MULTIPLY_CHUNK(4, 5)
    } else {
      XI_MULTIPLY_CHUNK(6, 7)
    }
#undef XI_MULTIPLY_CHUNK
  }
  alignas(64) int32_t sums[kNr][kMr][16];
  _tile_stored(0, sums[0], 64);
  _tile_stored(1, sums[1], 64);
  _tile_stored(2, sums[2], 64);
  _tile_stored(3, sums[3], 64);
  _tile_release();
  for (int j = 0; j < kNr && 16 * j < channels; ++j) {
    const DequantizedVector vector(output, channels, j);
    for (int64_t p = 0; p < mr; ++p) {
      vector.store(_mm512_load_si512(sums[j][p]), out[p] + out_offset + 16 * j);
    }
  }
}

}  // namespace xnorinfer
