// Node attributes: a name -> value map with typed getters that name the node in their errors.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace xnorinfer {

using AttrValue =
    std::variant<int64_t, double, std::string, std::vector<int64_t>, std::vector<double>>;

class AttrMap {
 public:
  AttrMap() = default;
  AttrMap(std::string node_name, std::map<std::string, AttrValue> values)
      : node_(std::move(node_name)), values_(std::move(values)) {}

  bool has(const std::string& key) const { return values_.count(key) != 0; }
  std::vector<std::string> keys() const;
  // The value of `key`, or nullptr.
  const AttrValue* find(const std::string& key) const;
  int64_t get_int(const std::string& key) const;
  int64_t get_int(const std::string& key, int64_t fallback) const;
  // An int within [min_value, max_value]; the form with `fallback` is for optional attributes.
  int64_t get_bounded_int(const std::string& key, int64_t min_value, int64_t max_value) const;
  int64_t get_bounded_int(const std::string& key, int64_t fallback, int64_t min_value,
                          int64_t max_value) const;
  double get_float(const std::string& key) const;  // an int attribute is accepted too
  double get_float(const std::string& key, double fallback) const;
  std::string get_string(const std::string& key) const;
  std::string get_string(const std::string& key, const std::string& fallback) const;
  std::vector<int64_t> get_ints(const std::string& key) const;
  std::vector<double> get_floats(const std::string& key) const;  // a list of ints is accepted too
  // A list of exactly `size` ints, each within [min_value, max_value].
  std::vector<int64_t> get_ints(const std::string& key, size_t size, int64_t min_value,
                                int64_t max_value) const;

  const std::string& node_name() const { return node_; }

 private:
  const AttrValue& at(const std::string& key) const;
  [[noreturn]] void wrong_type(const std::string& key, const char* expected) const;

  std::string node_;
  std::map<std::string, AttrValue> values_;
};

}  // namespace xnorinfer
