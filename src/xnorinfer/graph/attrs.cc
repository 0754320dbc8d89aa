#include "xnorinfer/graph/attrs.h"

#include "xnorinfer/base/errors.h"

namespace xnorinfer {

std::vector<std::string> AttrMap::keys() const {
  std::vector<std::string> keys;
  for (const auto& entry : values_) keys.push_back(entry.first);
  return keys;
}

const AttrValue* AttrMap::find(const std::string& key) const {
  auto it = values_.find(key);
  return it == values_.end() ? nullptr : &it->second;
}

const AttrValue& AttrMap::at(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) {
    throw InvalidModel("node '" + node_ + "': missing attribute '" + key + "'");
  }
  return it->second;
}

void AttrMap::wrong_type(const std::string& key, const char* expected) const {
  throw InvalidModel("node '" + node_ + "': attribute '" + key + "' must be " + expected);
}

int64_t AttrMap::get_int(const std::string& key) const {
  const auto* v = std::get_if<int64_t>(&at(key));
  if (!v) wrong_type(key, "an int");
  return *v;
}

int64_t AttrMap::get_int(const std::string& key, int64_t fallback) const {
  return has(key) ? get_int(key) : fallback;
}

int64_t AttrMap::get_bounded_int(const std::string& key, int64_t min_value,
                                 int64_t max_value) const {
  const int64_t v = get_int(key);
  if (v < min_value || v > max_value) {
    throw InvalidModel("node '" + node_ + "': attribute '" + key + "' value " + std::to_string(v) +
                       " is outside [" + std::to_string(min_value) + ", " +
                       std::to_string(max_value) + "]");
  }
  return v;
}

int64_t AttrMap::get_bounded_int(const std::string& key, int64_t fallback, int64_t min_value,
                                 int64_t max_value) const {
  return has(key) ? get_bounded_int(key, min_value, max_value) : fallback;
}

double AttrMap::get_float(const std::string& key) const {
  const AttrValue& value = at(key);
  if (const auto* d = std::get_if<double>(&value)) return *d;
  if (const auto* i = std::get_if<int64_t>(&value)) return static_cast<double>(*i);
  wrong_type(key, "a number");
}

double AttrMap::get_float(const std::string& key, double fallback) const {
  return has(key) ? get_float(key) : fallback;
}

std::string AttrMap::get_string(const std::string& key) const {
  const auto* v = std::get_if<std::string>(&at(key));
  if (!v) wrong_type(key, "a string");
  return *v;
}

std::string AttrMap::get_string(const std::string& key, const std::string& fallback) const {
  return has(key) ? get_string(key) : fallback;
}

std::vector<int64_t> AttrMap::get_ints(const std::string& key) const {
  const AttrValue& value = at(key);
  if (const auto* v = std::get_if<std::vector<int64_t>>(&value)) return *v;
  // An empty list arrives as a list of floats from a JSON-less source; accept it.
  if (const auto* d = std::get_if<std::vector<double>>(&value); d && d->empty()) return {};
  wrong_type(key, "a list of ints");
}

std::vector<double> AttrMap::get_floats(const std::string& key) const {
  const AttrValue& value = at(key);
  if (const auto* v = std::get_if<std::vector<double>>(&value)) return *v;
  if (const auto* i = std::get_if<std::vector<int64_t>>(&value)) return {i->begin(), i->end()};
  wrong_type(key, "a list of numbers");
}

std::vector<int64_t> AttrMap::get_ints(const std::string& key, size_t size, int64_t min_value,
                                       int64_t max_value) const {
  std::vector<int64_t> v = get_ints(key);
  if (v.size() != size) {
    throw InvalidModel("node '" + node_ + "': attribute '" + key + "' must have " +
                       std::to_string(size) + " values, got " + std::to_string(v.size()));
  }
  for (int64_t x : v) {
    if (x < min_value || x > max_value) {
      throw InvalidModel("node '" + node_ + "': attribute '" + key + "' value " +
                         std::to_string(x) + " is outside [" + std::to_string(min_value) + ", " +
                         std::to_string(max_value) + "]");
    }
  }
  return v;
}

}  // namespace xnorinfer
