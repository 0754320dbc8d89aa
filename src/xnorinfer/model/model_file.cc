// The file's framing (magic, version, flags, header length, trailer with its SHA-256), the
// constant table and the blobs' CRC-32s. The header's graph is read by header_graph.cc and
// checked by graph_rules.cc. The order of the checks is the order of the messages a user most
// needs: a newer version is reported before a checksum mismatch, a cut file before anything
// its header says.
#include "xnorinfer/model/model_file.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>

#include "xnorinfer/model/crc32.h"
#include "xnorinfer/model/graph_rules.h"
#include "xnorinfer/model/header_fields.h"
#include "xnorinfer/model/header_graph.h"
#include "xnorinfer/model/sha256.h"

namespace xnorinfer {
namespace {

using json::Ref;
using model_header::fail;
using model_header::field;
using model_header::invalid;
using model_header::Kind;
using model_header::quoted;
using u128 = unsigned __int128;

constexpr size_t kPreambleBytes = 24;  // magic, version u32, flags u32, header length u64
constexpr size_t kDigestBytes = 32;
constexpr size_t kTrailerBytes = kDigestBytes + sizeof(kModelEndMagic);
constexpr size_t kMinFileBytes = kPreambleBytes + kTrailerBytes;

template <typename T>
T read_le(const uint8_t* p) {
  T value = 0;
  for (size_t i = 0; i < sizeof(T); ++i) value |= static_cast<T>(p[i]) << (8 * i);
  return value;
}

u128 align(u128 offset) {
  return (offset + kModelAlignment - 1) / kModelAlignment * kModelAlignment;
}

std::string decimal(u128 value) {
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(value % 10)));
    value /= 10;
  } while (value);
  return digits;
}

// Python's repr of a bytes object, as the message about a wrong magic shows it.
std::string bytes_repr(const uint8_t* p, size_t n) {
  std::string s = "b'";
  for (size_t i = 0; i < n; ++i) {
    const uint8_t c = p[i];
    if (c == '\\' || c == '\'') {
      s += '\\';
      s += static_cast<char>(c);
    } else if (c == '\t') {
      s += "\\t";
    } else if (c == '\n') {
      s += "\\n";
    } else if (c == '\r') {
      s += "\\r";
    } else if (c >= 0x20 && c < 0x7f) {
      s += static_cast<char>(c);
    } else {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      s += hex;
    }
  }
  return s + "'";
}

[[noreturn]] void truncated(size_t size, const std::string& expected) {
  fail("truncated: the file is " + std::to_string(size) + " bytes, expected " + expected);
}

// Magic, then version (before the checksum, so that a newer file says so). Returns the header
// length.
uint64_t check_preamble(const uint8_t* data, size_t size) {
  const size_t shown = std::min(size, sizeof(kModelMagic));
  if (shown && std::memcmp(data, kModelMagic, shown) != 0) {  // data may be null when empty
    fail("not an xnorinfer model file: it starts with " + bytes_repr(data, shown) +
         ", expected the magic " +
         bytes_repr(reinterpret_cast<const uint8_t*>(kModelMagic), sizeof(kModelMagic)));
  }
  const std::string least = "at least " + std::to_string(kMinFileBytes);
  if (size < sizeof(kModelMagic) + 4) truncated(size, least);
  const uint32_t version = read_le<uint32_t>(data + 8);
  if (version > kModelFormatVersion) {
    fail("written by a newer xnorinfer (format version " + std::to_string(version) +
         ", this build reads up to " + std::to_string(kModelFormatVersion) +
         "): upgrade xnorinfer");
  }
  if (version < 1) {
    fail("format version " + std::to_string(version) + " does not exist (versions start at 1)");
  }
  if (size < kPreambleBytes) truncated(size, least);
  return read_le<uint64_t>(data + 16);
}

bool ends_with_end_magic(const uint8_t* data, size_t size) {
  return size >= kMinFileBytes && std::memcmp(data + size - sizeof(kModelEndMagic), kModelEndMagic,
                                              sizeof(kModelEndMagic)) == 0;
}

// The file size the (unverified) header implies, or 0 when it cannot tell. Used only to word
// the message about a missing end marker.
u128 claimed_file_size(const uint8_t* data, uint64_t header_len) {
  try {
    const json::Document doc = json::Document::parse(
        std::string_view(reinterpret_cast<const char*>(data + kPreambleBytes), header_len));
    if (doc.root().type() != json::Type::kObject) return 0;
    const Ref constants = doc.root().find("constants");
    if (!constants.valid() || constants.type() != json::Type::kArray) return 0;
    u128 data_end = 0;
    for (size_t i = 0; i < constants.size(); ++i) {
      const Ref entry = constants.item(i);
      if (entry.type() != json::Type::kObject) return 0;
      const Ref offset = entry.find("offset"), nbytes = entry.find("nbytes");
      if (!offset.valid() || !nbytes.valid() || offset.type() != json::Type::kInt ||
          nbytes.type() != json::Type::kInt || offset.as_int() < 0 || nbytes.as_int() < 0) {
        return 0;
      }
      data_end = std::max(data_end, u128(offset.as_int()) + u128(nbytes.as_int()));
    }
    return align(u128(kPreambleBytes) + header_len) + data_end + kTrailerBytes;
  } catch (const json::ParseError&) {
    return 0;
  }
}

// The end marker is missing: tell a cut-off file from a damaged end marker.
[[noreturn]] void refuse_incomplete(const uint8_t* data, size_t size, uint64_t header_len) {
  const u128 header_end = u128(kPreambleBytes) + header_len;
  const u128 claimed = size >= header_end ? claimed_file_size(data, header_len) : 0;
  if (claimed > size) truncated(size, decimal(claimed) + " (from its header)");
  const u128 least = header_end + kTrailerBytes;
  if (size < least) {
    truncated(size, "at least " + decimal(least) + " (a " + std::to_string(header_len) +
                        "-byte header and the trailer)");
  }
  if (claimed == 0) {
    fail(
        "corrupted: the file does not end with the end marker and its header cannot say how long "
        "it should be");
  }
  fail("corrupted: the end marker is damaged (expected " +
       bytes_repr(reinterpret_cast<const uint8_t*>(kModelEndMagic), sizeof(kModelEndMagic)) +
       " in the last " + std::to_string(sizeof(kModelEndMagic)) + " bytes)");
}

void check_digest(const uint8_t* data, size_t size) {
  const size_t body = size - kTrailerBytes;
  if (std::memcmp(sha256(data, body).data(), data + body, kDigestBytes) != 0) {
    fail("corrupted: the SHA-256 of the file does not match the one in its trailer");
  }
}

json::Document parse_header(const uint8_t* p, size_t n) {
  json::Document doc;
  try {
    doc = json::Document::parse(std::string_view(reinterpret_cast<const char*>(p), n));
  } catch (const json::ParseError& error) {
    invalid(std::string("not valid UTF-8 JSON (") + error.what() + ")");
  }
  if (doc.root().type() != json::Type::kObject) {
    invalid(std::string("expected a JSON object, got ") + json::type_name(doc.root()));
  }
  model_header::check_keys(
      doc.root(), {"inputs", "outputs", "values", "nodes", "metadata", "constants"}, "header");
  return doc;
}

struct TableEntry {
  ConstantSpec spec;  // offset from the data section start until the table is checked
  uint32_t crc;
};

// The product of `shape`, or -1 once it exceeds `cap` (stops hostile shapes early).
int64_t element_count(const Shape& shape, int64_t cap) {
  if (std::count(shape.begin(), shape.end(), 0)) return 0;
  int64_t count = 1;
  for (int64_t dim : shape) {
    if (count > cap / dim) return -1;
    count *= dim;
  }
  return count;
}

TableEntry read_constant_entry(Ref entry, std::string where, int64_t data_bytes,
                               int64_t file_bytes) {
  if (entry.type() != json::Type::kObject) {
    invalid(where + " must be an object, got " + json::type_name(entry));
  }
  TableEntry e;
  e.spec.name = model_header::string_field(entry, "name", where);
  where = "constant " + quoted(e.spec.name);
  model_header::check_keys(entry, {"name", "dtype", "shape", "offset", "nbytes", "crc32"}, where);
  const std::string dtype = model_header::string_field(entry, "dtype", where);
  if (dtype != "float32" && dtype != "uint64") {
    invalid(where + " has unknown dtype " + quoted(dtype) + " (expected one of float32, uint64)");
  }
  e.spec.storage =
      dtype == "float32" ? ConstantSpec::Storage::kFloat32 : ConstantSpec::Storage::kUint64;
  e.spec.shape = model_header::shape_field(field(entry, "shape", Kind::kList, where), where, 0);
  const Ref offset = field(entry, "offset", Kind::kInt, where);
  const Ref nbytes = field(entry, "nbytes", Kind::kInt, where);
  const Ref crc = field(entry, "crc32", Kind::kInt, where);
  const int64_t itemsize = dtype == "float32" ? 4 : 8;
  const int64_t count = element_count(e.spec.shape, file_bytes / itemsize);
  if (count < 0) {
    invalid(where + " has shape " + to_string(e.spec.shape) +
            ", which needs more bytes than the whole " + std::to_string(file_bytes) +
            "-byte file holds");
  }
  if (nbytes.type() != json::Type::kInt || nbytes.as_int() != count * itemsize) {
    invalid(where + " has shape " + to_string(e.spec.shape) + " of " + dtype + " (" +
            std::to_string(count * itemsize) + " bytes) but nbytes " + json::repr(nbytes));
  }
  if (offset.type() != json::Type::kInt || offset.as_int() < 0 ||
      offset.as_int() > data_bytes - nbytes.as_int()) {
    invalid(where + " at offset " + json::repr(offset) + " with " + json::repr(nbytes) +
            " bytes is out of range (the data section holds " + std::to_string(data_bytes) +
            " bytes)");
  }
  if (offset.as_int() % kModelAlignment) {
    invalid(where + " offset " + json::repr(offset) + " is not a multiple of " +
            std::to_string(kModelAlignment));
  }
  if (crc.type() != json::Type::kInt || crc.as_int() < 0 || crc.as_int() > 0xFFFFFFFF) {
    invalid(where + " has crc32 " + json::repr(crc) + ", not a 32-bit value");
  }
  e.spec.offset = static_cast<size_t>(offset.as_int());
  e.spec.nbytes = static_cast<size_t>(nbytes.as_int());
  e.crc = static_cast<uint32_t>(crc.as_int());
  return e;
}

// Blobs may not overlap, and the data section must end where the last blob does.
void check_blob_layout(const std::vector<TableEntry>& table, int64_t data_bytes) {
  std::vector<const ConstantSpec*> ordered;
  for (const TableEntry& e : table) ordered.push_back(&e.spec);
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const ConstantSpec* a, const ConstantSpec* b) {
                     return a->offset != b->offset ? a->offset < b->offset : a->nbytes < b->nbytes;
                   });
  size_t data_end = 0;
  for (size_t i = 0; i < ordered.size(); ++i) {
    if (i && ordered[i]->offset < ordered[i - 1]->offset + ordered[i - 1]->nbytes) {
      invalid("constants " + quoted(ordered[i - 1]->name) + " and " + quoted(ordered[i]->name) +
              " overlap (bytes " + std::to_string(ordered[i]->offset) + ".." +
              std::to_string(ordered[i - 1]->offset + ordered[i - 1]->nbytes) +
              " of the data section)");
    }
    data_end = std::max(data_end, ordered[i]->offset + ordered[i]->nbytes);
  }
  if (static_cast<int64_t>(data_end) != data_bytes) {
    invalid("the data section holds " + std::to_string(data_bytes) +
            " bytes but the constants end at byte " + std::to_string(data_end));
  }
}

std::vector<TableEntry> read_constant_table(Ref header, int64_t data_bytes, int64_t file_bytes) {
  const Ref list = field(header, "constants", Kind::kList, "header");
  std::vector<TableEntry> table;
  std::map<std::string, size_t> index_of;
  for (size_t i = 0; i < list.size(); ++i) {
    TableEntry e =
        read_constant_entry(list.item(i), "constant #" + std::to_string(i), data_bytes, file_bytes);
    if (!index_of.emplace(e.spec.name, i).second) {
      invalid("constant " + quoted(e.spec.name) + " is listed twice");
    }
    table.push_back(std::move(e));
  }
  check_blob_layout(table, data_bytes);
  return table;
}

std::string hex32(uint32_t value) {
  char text[11];
  std::snprintf(text, sizeof text, "0x%08x", value);
  return text;
}

}  // namespace

ModelFile read_model_file(const uint8_t* data, size_t size) {
  const uint64_t header_len = check_preamble(data, size);
  if (!ends_with_end_magic(data, size)) refuse_incomplete(data, size, header_len);
  check_digest(data, size);
  const uint32_t flags = read_le<uint32_t>(data + 12);
  if (flags != 0) {
    fail("unsupported flags " + hex32(flags) + ": format version 1 defines none");
  }
  const size_t trailer_start = size - kTrailerBytes;
  const u128 data_start = align(u128(kPreambleBytes) + header_len);
  if (data_start > trailer_start) {
    fail("header length " + std::to_string(header_len) + " runs past the trailer at byte " +
         std::to_string(trailer_start));
  }
  ModelFile model;
  model.header = parse_header(data + kPreambleBytes, header_len);
  const Ref header = model.header.root();
  const int64_t data_bytes = static_cast<int64_t>(trailer_start - static_cast<size_t>(data_start));
  std::vector<TableEntry> table =
      read_constant_table(header, data_bytes, static_cast<int64_t>(size));
  for (TableEntry& e : table) {
    e.spec.offset += static_cast<size_t>(data_start);
    model.constants.push_back(e.spec);
  }
  read_header_graph(header, model);
  check_graph_rules(model);
  for (const TableEntry& e : table) {
    const uint32_t computed = crc32(data + e.spec.offset, e.spec.nbytes);
    if (computed != e.crc) {
      fail("corrupted: the CRC-32 of constant " + quoted(e.spec.name) +
           " does not match the header (stored " + hex32(e.crc) + ", computed " + hex32(computed) +
           ")");
    }
  }
  return model;
}

}  // namespace xnorinfer
