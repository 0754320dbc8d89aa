// The xnorinfer model file (.xnor), read and validated. Python writes it
// (python/xnorinfer/model_file.py, where the layout is drawn); this is its one reader, for the
// C++ API and for Python alike. Every rule a file must keep is checked here, before anything
// in it is used, and a file that breaks one is refused with InvalidModelFile saying which:
// not an xnorinfer file, truncated, corrupted, written by a newer version, or malformed.
// Reading never allocates more than the file's size justifies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "xnorinfer/base/shape.h"
#include "xnorinfer/model/json.h"
#include "xnorinfer/ops/op.h"

namespace xnorinfer {

inline constexpr char kModelMagic[8] = {'X', 'N', 'O', 'R', 'I', 'N', 'F', '\0'};
inline constexpr char kModelEndMagic[8] = {'X', 'N', 'O', 'R', 'E', 'N', 'D', '\0'};
inline constexpr uint32_t kModelFormatVersion = 1;
inline constexpr int64_t kModelAlignment = 64;  // the data section and every blob start so
inline constexpr int64_t kMaxNodes = int64_t{1} << 14;

// A graph input, output or intermediate value: its name, shape (-1: dynamic) and dtype
// ("float32", "bits" or "ternary").
struct ValueSpec {
  std::string name;
  Shape shape;
  std::string dtype;
};

// A constant's bytes in the file: float32 or uint64 (packed bits, 64 per word), little-endian.
struct ConstantSpec {
  enum class Storage { kFloat32, kUint64 };
  std::string name;
  Storage storage;
  Shape shape;    // of the stored array (for packed bits: the last axis counts words)
  size_t offset;  // from the start of the file
  size_t nbytes;
};

struct ModelFile {
  std::vector<ValueSpec> inputs;
  std::vector<ValueSpec> outputs;
  std::vector<ValueSpec> values;  // shapes the converter recorded, for inspection
  std::vector<NodeDef> nodes;
  std::vector<ConstantSpec> constants;  // in the header's order; their CRC-32s checked
  json::Document header;                // the parsed header, which holds the metadata
  json::Ref metadata() const { return header.root().find("metadata"); }
};

// Reads the model file in data[0, size). The constants stay in `data` (see ConstantSpec).
// Throws InvalidModelFile.
ModelFile read_model_file(const uint8_t* data, size_t size);

}  // namespace xnorinfer
