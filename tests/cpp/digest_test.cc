// sha256 and crc32 against digests from Python's hashlib and zlib: the published test vectors,
// every length 0..200 around the 64-byte block and 8-byte slice boundaries, unaligned starts.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "check.h"
#include "xnorinfer/model/crc32.h"
#include "xnorinfer/model/sha256.h"

namespace xnorinfer {
namespace {

std::string hex(const std::array<uint8_t, 32>& digest) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t byte : digest) {
    out += kDigits[byte >> 4];
    out += kDigits[byte & 15];
  }
  return out;
}

std::string sha256_hex(const std::string& text) { return hex(sha256(text.data(), text.size())); }

// The bytes the pasted digests were computed over: bytes((i*7+3) & 0xFF for i in range(n)).
std::vector<uint8_t> pattern(size_t size) {
  std::vector<uint8_t> data(size);
  for (size_t i = 0; i < size; ++i) data[i] = static_cast<uint8_t>(i * 7 + 3);
  return data;
}

TEST(sha256_published_vectors) {
  CHECK_STR(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK_STR(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK_STR(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK_STR(sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(sha256_around_block_boundaries) {
  // 55/56 and 119/120 bytes: where the length no longer fits the last block.
  const std::pair<size_t, const char*> cases[] = {
      {0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {1, "084fed08b978af4d7d196a7446a86b58009e636b611db16211b65a9aadff29c5"},
      {55, "e7313d333c272e639f790978283f9eb392e843d0f29b7016828bb1daa4aac70b"},
      {56, "4324d65f3c103567f5589c710bc08f8523f929a9272e3af36fc968e52abc6c27"},
      {57, "35df609437dcfea3279283ab79fd554e2bf78f8f7ae2de532d8ee300b09e8f73"},
      {63, "81c80242132f230c3bd41b3e63bbcff16107339549214a99614ff26664625055"},
      {64, "39e3d7b6b5d075d37d053ad89b24b41bef4f3c29760c84447cab3f3be1882241"},
      {65, "aacca6ff74fdbb296d165a45cecfa04e5127bc008770fbbdd48006f2d2fae95e"},
      {119, "9ce7368e4daf32341631b492e80359dc9f594b48453cd0dd5bf0b19279cc177e"},
      {120, "7836b787757e95e58b3ca5aec90b1b004e8deba1e50e9675af9cabf1a13a04b5"},
      {127, "a8d23e75d936f303d248888d9b165ee543f4cbafcad3c9dd2a79bd84faa11d07"},
      {128, "d2742f1f4ac6bb7ca2b239ee18402ba8b3f9f8e652d2a72973c2b9ba11c08cf6"},
      {129, "307f8fc2c1622b92762e818d39a185d4d667ad49a4b07ceae1f4afa008a93ec4"},
      {200, "2c7e18c942ef065b526a2d4e5546283749cd3ddfb51d8fc71f42717363685f46"},
  };
  const std::vector<uint8_t> data = pattern(200);
  for (const auto& [size, expected] : cases)
    CHECK_STR_CTX(hex(sha256(data.data(), size)), expected, std::to_string(size) + " bytes");

  // Every length 0..200 at once: sha256(b"".join(sha256(data[:n]).digest() for n in 0..200)).
  std::vector<uint8_t> digests;
  for (size_t size = 0; size <= 200; ++size) {
    const auto digest = sha256(data.data(), size);
    digests.insert(digests.end(), digest.begin(), digest.end());
  }
  CHECK_STR(hex(sha256(digests.data(), digests.size())),
            "3275febb4612d86d586eb9f11cd21e648a9fc7d95e0f6b8d362786e28c9c5b79");
}

TEST(crc32_vectors) {
  CHECK_EQ(crc32("", 0), 0u);
  CHECK_EQ(crc32("123456789", 9), 0xCBF43926u);
  const std::string fox = "The quick brown fox jumps over the lazy dog";
  CHECK_EQ(crc32(fox.data(), fox.size()), 0x414FA339u);
}

TEST(crc32_unaligned_starts_and_tails) {
  const std::vector<uint8_t> data = pattern(208);
  struct Case {
    size_t offset, size;
    uint32_t crc;
  };
  const Case cases[] = {{0, 1, 0x4b0bbe37},   {1, 7, 0x94225e8c},  {3, 8, 0x2976a57a},
                        {5, 9, 0x96ba6b61},   {7, 15, 0x6966eda0}, {1, 16, 0x0d69bf8f},
                        {2, 100, 0xabb0258e}, {7, 200, 0xd3351146}};
  for (const Case& c : cases)
    CHECK_EQ_CTX(crc32(data.data() + c.offset, c.size), c.crc,
                 "offset " + std::to_string(c.offset) + ", " + std::to_string(c.size) + " bytes");

  // Every start 0..7 and length 0..200 at once: zlib.crc32 of their CRCs, each 4 bytes LE.
  std::vector<uint8_t> crcs;
  for (size_t offset = 0; offset < 8; ++offset) {
    for (size_t size = 0; size <= 200; ++size) {
      const uint32_t crc = crc32(data.data() + offset, size);
      for (int i = 0; i < 4; ++i) crcs.push_back(static_cast<uint8_t>(crc >> (8 * i)));
    }
  }
  CHECK_EQ(crc32(crcs.data(), crcs.size()), 0x7c74cd0fu);
}

TEST(large_buffer) {
  const std::vector<uint8_t> data = pattern(1 << 20);
  CHECK_STR(hex(sha256(data.data(), data.size())),
            "172c15dc2e12b50e523d8e657cbe7fbb11c1053252bbf1e1431077d57d8128fd");
  CHECK_EQ(crc32(data.data(), data.size()), 0x4a24d8fau);

  // Throughput, printed for whoever reads the log (no assertion: the machine may be busy).
  const auto start = std::chrono::steady_clock::now();
  uint32_t sink = 0;
  for (int i = 0; i < 64; ++i) sink ^= crc32(data.data(), data.size());
  const double crc_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto start2 = std::chrono::steady_clock::now();
  for (int i = 0; i < 16; ++i) sink ^= sha256(data.data(), data.size())[0];
  const double sha_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start2).count();
  std::printf("crc32 %.0f MB/s, sha256 %.0f MB/s (%u)\n", 64 / crc_s, 16 / sha_s, sink & 1);
}

}  // namespace
}  // namespace xnorinfer

TEST_MAIN()
