// Model-file bytes built in a test: a small binary network's header, written as JSON text that
// a case may edit, and its constants; sealed with a valid trailer, so that an edited header
// passes the integrity checks and the structural checks have to catch it.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "check.h"
#include "xnorinfer/model/crc32.h"
#include "xnorinfer/model/sha256.h"

namespace xnorinfer::test {

struct Blob {
  std::string name;
  std::string dtype;  // "float32" or "uint64"
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
};

inline void put_le(std::vector<uint8_t>& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<uint8_t>(value >> (8 * i)));
}

inline std::string shape_json(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

// The constant table of `blobs`, laid out 64-byte aligned from the data section start.
inline std::string constant_table(const std::vector<Blob>& blobs) {
  std::string table = "[";
  size_t offset = 0;
  for (const Blob& b : blobs) {
    offset = (offset + 63) / 64 * 64;
    table += std::string(table.size() > 1 ? "," : "") + "{\"name\":\"" + b.name +
             "\",\"dtype\":\"" + b.dtype + "\",\"shape\":" + shape_json(b.shape) +
             ",\"offset\":" + std::to_string(offset) +
             ",\"nbytes\":" + std::to_string(b.bytes.size()) +
             ",\"crc32\":" + std::to_string(crc32(b.bytes.data(), b.bytes.size())) + "}";
    offset += b.bytes.size();
  }
  return table + "]";
}

// A whole file: preamble, `header`, the blobs and a trailer whose SHA-256 matches.
inline std::vector<uint8_t> seal(const std::string& header, const std::vector<Blob>& blobs,
                                 uint32_t version = 1, uint32_t flags = 0) {
  std::vector<uint8_t> out = {'X', 'N', 'O', 'R', 'I', 'N', 'F', 0};
  put_le(out, version, 4);
  put_le(out, flags, 4);
  put_le(out, header.size(), 8);
  out.insert(out.end(), header.begin(), header.end());
  const size_t data_start = (out.size() + 63) / 64 * 64;
  for (const Blob& b : blobs) {
    out.resize(data_start + (out.size() - data_start + 63) / 64 * 64);
    out.insert(out.end(), b.bytes.begin(), b.bytes.end());
  }
  if (blobs.empty()) out.resize(data_start);
  const auto digest = sha256(out.data(), out.size());
  out.insert(out.end(), digest.begin(), digest.end());
  for (char c : std::string("XNOREND")) out.push_back(static_cast<uint8_t>(c));
  out.push_back(0);
  return out;
}

template <typename T>
Blob blob(const std::string& name, const std::vector<int64_t>& shape, const std::vector<T>& data) {
  Blob b{name, sizeof(T) == 4 ? "float32" : "uint64", shape, {}};
  b.bytes.resize(data.size() * sizeof(T));
  if (!data.empty()) std::memcpy(b.bytes.data(), data.data(), b.bytes.size());
  return b;
}

// x [batch, 5, 5, 8] -> BinarizePack -> 3x3 BinaryConv2d to bits (16 channels) -> 2x2 MaxPool
// -> BinaryDense (10 classes) -> Softmax -> "probs" [batch, 10]: the graph part of the header
// (everything but "constants"), and its constants.
struct SmallNetwork {
  std::string graph =
      "\"inputs\":[{\"name\":\"x\",\"shape\":[-1,5,5,8],\"dtype\":\"float32\"}],"
      "\"outputs\":[{\"name\":\"probs\",\"shape\":[-1,10],\"dtype\":\"float32\"}],"
      "\"values\":[{\"name\":\"xb\",\"shape\":[-1,5,5,8],\"dtype\":\"bits\"}],"
      "\"nodes\":["
      "{\"name\":\"pack\",\"op\":\"BinarizePack\",\"inputs\":[\"x\"],\"outputs\":[\"xb\"],"
      "\"attrs\":{}},"
      "{\"name\":\"conv\",\"op\":\"BinaryConv2d\",\"inputs\":[\"xb\",\"conv.w\",\"conv.s\","
      "\"conv.b\",\"conv.t\"],\"outputs\":[\"cb\"],\"attrs\":{\"kernel_shape\":[3,3],"
      "\"pads\":[1,1,1,1],\"group\":1,\"in_channels\":8,\"pad_value\":0,\"output\":\"bits\"}},"
      "{\"name\":\"pool\",\"op\":\"MaxPool\",\"inputs\":[\"cb\"],\"outputs\":[\"pb\"],"
      "\"attrs\":{\"kernel_shape\":[2,2],\"strides\":[2,2],\"pads\":[0,0,0,0]}},"
      "{\"name\":\"dense\",\"op\":\"BinaryDense\",\"inputs\":[\"pb\",\"dense.w\",\"dense.s\","
      "\"dense.b\"],\"outputs\":[\"logits\"],\"attrs\":{\"in_channels\":16,\"groups_in\":4,"
      "\"output\":\"float\"}},"
      "{\"name\":\"softmax\",\"op\":\"Softmax\",\"inputs\":[\"logits\"],\"outputs\":"
      "[\"probs\"],\"attrs\":{\"axis\":1}}],"
      "\"metadata\":{\"producer\":\"model_bytes.h\",\"sizes\":[1,2.5,null,true],"
      "\"big\":123456789012345678901234567890}";
  std::vector<Blob> blobs;

  SmallNetwork() {
    std::vector<uint64_t> conv_w(16 * 9), dense_w(10 * 4);
    for (uint64_t& w : conv_w) w = rng()() & 0xff;  // 8 channels: the high bits stay zero
    for (uint64_t& w : dense_w) w = rng()() & 0xffff;
    std::vector<float> conv_t(16);
    std::normal_distribution<float> normal;
    for (float& t : conv_t) t = normal(rng());
    blobs = {blob("conv.w", {16, 3, 3, 1}, conv_w),
             blob("conv.s", {16}, std::vector<float>(16, 1.0f)),
             blob("conv.b", {16}, std::vector<float>(16, 0.0f)),
             blob("conv.t", {16}, conv_t),
             blob("dense.w", {10, 4, 1}, dense_w),
             blob("dense.s", {10}, std::vector<float>(10, 0.25f)),
             blob("dense.b", {10}, std::vector<float>(10, 0.0f))};
  }

  std::string header() const {
    return "{" + graph + ",\"constants\":" + constant_table(blobs) + "}";
  }
  std::vector<uint8_t> bytes() const { return seal(header(), blobs); }
};

// `text` with its first occurrence of `from` replaced by `to` (a test's header edit); the
// check fails when `from` is not there.
inline std::string replace(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  CHECK(at != std::string::npos);
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

}  // namespace xnorinfer::test
