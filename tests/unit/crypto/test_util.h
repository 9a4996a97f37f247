// test_util.h: small helpers shared by the crypto unit tests (hex, byte strings, keys).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/constants.h"
#include "crypto/secret.h"

namespace vdemesh::crypto::testing {

// Hex text to bytes; aborts on malformed input (test data is ours).
inline std::vector<std::uint8_t> Hex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    std::abort();
  };
  if (hex.size() % 2 != 0) std::abort();
  std::vector<std::uint8_t> out(hex.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<std::uint8_t>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
  }
  return out;
}

inline std::string ToHex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (std::uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

inline std::vector<std::uint8_t> Bytes(std::string_view text) {
  return std::vector<std::uint8_t>(text.begin(), text.end());
}

// A 32-byte secret of any role from 64 hex digits.
template <typename Key>
Key KeyFromHex(std::string_view hex) {
  const std::vector<std::uint8_t> bytes = Hex(hex);
  if (bytes.size() != kKeyBytes) std::abort();
  return Key(std::span<const std::uint8_t, kKeyBytes>(bytes.data(), kKeyBytes));
}

// start, start+1, ..., start+31: the keys the published Noise vectors use.
inline std::vector<std::uint8_t> IncrementingBytes(std::uint8_t start) {
  std::vector<std::uint8_t> bytes(kKeyBytes);
  for (std::size_t i = 0; i < kKeyBytes; ++i) bytes[i] = static_cast<std::uint8_t>(start + i);
  return bytes;
}
template <typename Key>
Key Incrementing(std::uint8_t start) {
  const std::vector<std::uint8_t> bytes = IncrementingBytes(start);
  return Key(std::span<const std::uint8_t, kKeyBytes>(bytes.data(), kKeyBytes));
}

}  // namespace vdemesh::crypto::testing
