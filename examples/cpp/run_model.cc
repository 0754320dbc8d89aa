// run_model: runs an xnorinfer model on one input and writes its first output, with no Python.
//
//   run_model MODEL.xnor INPUT.npy OUTPUT.npy
//
// INPUT.npy is a float32, C-order NumPy array of the model's input shape (any batch size
// where the model's batch is dynamic); OUTPUT.npy receives the first output as float32.
// Models with several inputs need a program that feeds them all: see xnorinfer.h.
#include <xnorinfer/xnorinfer.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

struct Array {
  std::vector<int64_t> shape;
  std::vector<float> data;
};

[[noreturn]] void die(const std::string& message) { throw std::runtime_error(message); }

// The value of `key` in a .npy header dict, e.g. "'<f4'" or "(1, 3, 224, 224)".
std::string header_value(const std::string& header, const std::string& key) {
  const size_t at = header.find("'" + key + "':");
  if (at == std::string::npos) die("the .npy header has no '" + key + "'");
  size_t begin = header.find_first_not_of(' ', at + key.size() + 3);
  size_t end = header[begin] == '(' ? header.find(')', begin) + 1 : header.find(',', begin);
  return header.substr(begin, end - begin);
}

// A .npy file (format 1.0-3.0) holding a little-endian float32 array in C order.
Array read_npy(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) die("cannot open '" + path + "'");
  char magic[8];
  if (!file.read(magic, 8) || std::string(magic, 6) != "\x93NUMPY") {
    die("'" + path + "' is not a .npy file");
  }
  uint32_t header_len = 0;
  unsigned char size[4] = {0, 0, 0, 0};
  file.read(reinterpret_cast<char*>(size), magic[6] == 1 ? 2 : 4);
  for (int i = 3; i >= 0; --i) header_len = header_len << 8 | size[i];
  std::string header(header_len, ' ');
  if (!file.read(header.data(), header_len)) die("'" + path + "' is truncated");
  if (header_value(header, "descr") != "'<f4'") {
    die("'" + path + "' holds " + header_value(header, "descr") +
        ", expected float32 ('<f4'): save it with x.astype(np.float32)");
  }
  if (header_value(header, "fortran_order") != "False") die("'" + path + "' is Fortran-ordered");
  Array array;
  std::istringstream dims(header_value(header, "shape").substr(1));
  int64_t dim, count = 1;
  char separator;
  while (dims >> dim) {
    array.shape.push_back(dim);
    count *= dim;
    dims >> separator;
  }
  array.data.resize(static_cast<size_t>(count));
  if (!file.read(reinterpret_cast<char*>(array.data.data()),
                 static_cast<std::streamsize>(count * sizeof(float)))) {
    die("'" + path + "' holds fewer values than its shape says");
  }
  return array;
}

void write_npy(const std::string& path, const std::vector<int64_t>& shape,
               const std::vector<float>& data) {
  std::string dims;
  for (int64_t d : shape) dims += std::to_string(d) + ", ";
  if (shape.size() > 1) dims.resize(dims.size() - 2);  // (3,) keeps its comma
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  header.append(63 - (10 + header.size()) % 64, ' ');  // data starts 64-byte aligned
  header += '\n';
  std::ofstream file(path, std::ios::binary);
  const unsigned char preamble[10] = {0x93,
                                      'N',
                                      'U',
                                      'M',
                                      'P',
                                      'Y',
                                      1,
                                      0,
                                      static_cast<unsigned char>(header.size() & 0xff),
                                      static_cast<unsigned char>(header.size() >> 8)};
  file.write(reinterpret_cast<const char*>(preamble), sizeof preamble);
  file << header;
  file.write(reinterpret_cast<const char*>(data.data()),
             static_cast<std::streamsize>(data.size() * sizeof(float)));
  if (!file) die("cannot write '" + path + "'");
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text;
  for (int64_t d : shape) text += (text.empty() ? "" : "x") + std::to_string(d);
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: run_model MODEL.xnor INPUT.npy OUTPUT.npy\n";
    return 2;
  }
  try {
    xnorinfer::InferenceSession session = xnorinfer::InferenceSession::from_file(argv[1]);
    if (session.inputs().size() != 1) {
      die("the model has " + std::to_string(session.inputs().size()) +
          " inputs; run_model feeds one");
    }
    const Array input = read_npy(argv[2]);
    const std::vector<xnorinfer::Output> outputs = session.run({{input.data.data(), input.shape}});
    write_npy(argv[3], outputs[0].shape, outputs[0].data);
    std::cout << "ran " << argv[1] << " (" << session.isa() << ", " << session.num_threads()
              << " threads) on " << shape_text(input.shape) << ": wrote " << outputs[0].name << " "
              << shape_text(outputs[0].shape) << " to " << argv[3] << "\n";
    return 0;
  } catch (const std::exception& error) {
    std::cerr << "run_model: " << error.what() << "\n";
    return 1;
  }
}
