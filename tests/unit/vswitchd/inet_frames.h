// inet_frames.h: TCP and UDP frames for the segmentation and coalescing tests.
#pragma once

#include <cstdint>
#include <vector>

#include "vswitchd/core/inet.h"

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

// An untagged UDP/IPv4 (IPv4 id `id`) or UDP/IPv6 frame, port 40000 -> 53, with `payload`
// bytes of a pattern starting at `first`, and valid lengths and checksums.
inline std::vector<std::uint8_t> UdpFrame(bool v6, std::size_t payload, std::uint16_t id = 0x1234,
                                          std::uint8_t first = 0) {
  std::vector<std::uint8_t> f = TcpFrame(v6, 0, 0, 0);
  const std::size_t udp = kEth + (v6 ? 40 : 20);
  f.resize(udp);
  f[v6 ? kEth + 6 : kEth + 9] = kIpProtoUdp;
  const std::size_t udp_len = 8 + payload;
  const std::vector<std::uint8_t> h = {0x9c, 0x40, 0, 53, static_cast<std::uint8_t>(udp_len >> 8),
                                       static_cast<std::uint8_t>(udp_len), 0, 0};
  f.insert(f.end(), h.begin(), h.end());
  for (std::size_t i = 0; i < payload; ++i) f.push_back(static_cast<std::uint8_t>(first + i * 7));
  if (v6) {
    Store16(&f[kEth + 4], static_cast<std::uint16_t>(udp_len));
  } else {
    Store16(&f[kEth + 2], static_cast<std::uint16_t>(20 + udp_len));
    Store16(&f[kEth + 4], id);
    Store16(&f[kEth + 10], FoldChecksum(OnesSum({&f[kEth], 20})));
  }
  const std::uint32_t pseudo = PseudoHeaderSum(&f[kEth], v6, kIpProtoUdp, udp_len);
  Store16(&f[udp + 6], FoldChecksum(OnesSum({&f[udp], udp_len}, pseudo)));
  return f;
}

// What a segmenter (SegmentTcp or SegmentUdp) makes of `super` with `slots` output buffers of
// max_frame bytes: the frames, or none if it refused.
template <typename SegmentFn>
std::vector<std::vector<std::uint8_t>> Cut(SegmentFn segment, const std::vector<std::uint8_t>& super,
                                           std::size_t gso_size, std::size_t max_frame = 1514,
                                           std::size_t slots = 64) {
  std::vector<std::vector<std::uint8_t>> bufs(slots, std::vector<std::uint8_t>(max_frame));
  std::vector<std::uint8_t*> out;
  for (auto& b : bufs) out.push_back(b.data());
  std::vector<std::size_t> lens(slots);
  const std::size_t n = segment(super, gso_size, max_frame, out, lens);
  bufs.resize(n);
  for (std::size_t i = 0; i < n; ++i) bufs[i].resize(lens[i]);
  return bufs;
}

// True if `f` (UDP) has a valid IPv4 header checksum (for IPv4) and UDP checksum.
inline bool UdpChecksumsValid(const std::vector<std::uint8_t>& f, bool v6) {
  const std::size_t udp = kEth + (v6 ? 40 : 20);
  if (!v6 && FoldChecksum(OnesSum({&f[kEth], 20})) != 0) return false;
  const std::uint32_t pseudo = PseudoHeaderSum(&f[kEth], v6, kIpProtoUdp, f.size() - udp);
  return FoldChecksum(OnesSum({&f[udp], f.size() - udp}, pseudo)) == 0;
}

}  // namespace vdemesh::core::testing
