// mac_address.h: a 48-bit Ethernet address as a value type.
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace vdemesh::core {

struct MacAddress {
  std::array<std::uint8_t, 6> bytes{};

  static MacAddress From(const std::uint8_t* p) noexcept {
    MacAddress m;
    std::memcpy(m.bytes.data(), p, 6);
    return m;
  }
  // Group bit (I/G): broadcast and multicast destinations; never valid as a source.
  bool IsMulticast() const noexcept { return (bytes[0] & 1) != 0; }
  bool IsZero() const noexcept { return bytes == std::array<std::uint8_t, 6>{}; }
  std::uint64_t AsU64() const noexcept {
    std::uint64_t v = 0;
    for (auto b : bytes) v = (v << 8) | b;
    return v;
  }
  std::string ToString() const {
    char s[18];
    std::snprintf(s, sizeof s, "%02x:%02x:%02x:%02x:%02x:%02x", bytes[0], bytes[1], bytes[2],
                  bytes[3], bytes[4], bytes[5]);
    return s;
  }
  friend bool operator==(const MacAddress&, const MacAddress&) = default;
};

}  // namespace vdemesh::core
