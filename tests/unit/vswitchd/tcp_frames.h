// tcp_frames.h: TCP frames for the segmentation and coalescing tests.
#pragma once

#include <cstdint>
#include <vector>

namespace vdemesh::core::testing {

inline constexpr std::size_t kEth = 14;

// An untagged TCP/IPv4 (10.0.0.1 -> 10.0.0.2) or TCP/IPv6 frame with 12 bytes of options
// (doff 8), sequence number `seq`, flags `flags`, and `payload` bytes of a pattern.
inline std::vector<std::uint8_t> TcpFrame(bool v6, std::size_t payload, std::uint8_t flags,
                                          std::uint32_t seq) {
  std::vector<std::uint8_t> f(kEth, 0);
  f[5] = 1;
  f[12] = v6 ? 0x86 : 0x08;
  f[13] = v6 ? 0xdd : 0x00;
  if (v6) {
    std::vector<std::uint8_t> ip(40, 0);
    ip[0] = 0x60;
    ip[6] = 6;
    ip[7] = 64;
    for (int i = 0; i < 16; ++i) {
      ip[8 + i] = static_cast<std::uint8_t>(i);
      ip[24 + i] = static_cast<std::uint8_t>(0x80 + i);
    }
    f.insert(f.end(), ip.begin(), ip.end());
  } else {
    const std::vector<std::uint8_t> ip = {0x45, 0,  0, 0, 0x12, 0x34, 0x40, 0, 64, 6,
                                          0,    0,  10, 0, 0,   1,    10,   0, 0,  2};
    f.insert(f.end(), ip.begin(), ip.end());
  }
  const std::vector<std::uint8_t> tcp = {
      0x9c, 0x40, 0x00, 0x50, static_cast<std::uint8_t>(seq >> 24),
      static_cast<std::uint8_t>(seq >> 16), static_cast<std::uint8_t>(seq >> 8),
      static_cast<std::uint8_t>(seq), 0, 0, 0, 1, 0x80, flags, 0xfa, 0xf0, 0, 0, 0, 0,
      1, 1, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8};
  f.insert(f.end(), tcp.begin(), tcp.end());
  for (std::size_t i = 0; i < payload; ++i) f.push_back(static_cast<std::uint8_t>(i * 13));
  return f;
}

}  // namespace vdemesh::core::testing
