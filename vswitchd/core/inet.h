// inet.h: what several per-packet parts of the switch need from IP and TCP headers: big-endian
// loads and stores, the Internet checksum (RFC 1071), and where the headers of a TCP or UDP
// frame are.
//
// Pure and per-packet: noexcept, no allocation; every offset is checked against the frame.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "vswitchd/core/ethernet.h"

namespace vdemesh::core {

inline constexpr std::uint8_t kIpProtoTcp = 6;
inline constexpr std::uint8_t kIpProtoUdp = 17;

inline std::uint16_t Load16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}
inline std::uint32_t Load32(const std::uint8_t* p) noexcept {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}
inline void Store16(std::uint8_t* p, std::uint16_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
inline void Store32(std::uint8_t* p, std::uint32_t v) noexcept {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
}

// Ones' complement sum of `data` (as 16-bit big-endian words, an odd last byte padded), added to
// `sum`; not folded.
std::uint32_t OnesSum(std::span<const std::uint8_t> data, std::uint32_t sum = 0) noexcept;
std::uint16_t FoldChecksum(std::uint32_t sum) noexcept;  // folded and complemented

// Where the headers of an untagged TCP/IPv4 (first or only fragment) or TCP/IPv6 (no extension
// headers) frame are; false for anything else or a frame cut short.
struct TcpFrame {
  std::size_t ip = kEthHeaderBytes;
  std::size_t tcp = 0;
  std::size_t payload = 0;  // offset of the first payload byte = length of all headers
  bool v6 = false;
};
bool ParseTcpFrame(std::span<const std::uint8_t> frame, TcpFrame* layout) noexcept;

// The same for UDP/IPv4 (first or only fragment) and UDP/IPv6 (no extension headers).
struct UdpFrame {
  static constexpr std::size_t kHeaderBytes = 8;
  std::size_t ip = kEthHeaderBytes;
  std::size_t udp = 0;
  std::size_t payload = 0;  // udp + 8
  bool v6 = false;
};
bool ParseUdpFrame(std::span<const std::uint8_t> frame, UdpFrame* layout) noexcept;

// Sets the length field of the IP header at `ip` (IPv4 total length, or IPv6 payload length) for
// a packet of `ip_len` bytes whose transport header starts `l4` bytes in; for IPv4 also the
// header checksum, so set other header fields (the id) first.
void SetIpLength(std::uint8_t* ip, bool v6, std::size_t l4, std::size_t ip_len) noexcept;

// The ones' complement sum of the pseudo-header (RFC 768 / RFC 8200 8.1) of the IP packet at
// `ip`, for transport protocol `proto` and `l4_len` bytes of transport header and data.
std::uint32_t PseudoHeaderSum(const std::uint8_t* ip, bool v6, std::uint8_t proto,
                              std::size_t l4_len) noexcept;

}  // namespace vdemesh::core
