// mss_clamp.h: lowers the MSS that TCP endpoints announce in their SYNs, so that the segments
// they then send fit the overlay's path without IP fragmentation (tinc's ClampMSS, OpenVPN's
// mssfix). A full 1514-byte frame needs 1578 bytes of IPv4 underlay, so unclamped TCP would be
// fragmented in two on a 1500-byte underlay; clamped, each segment is one UDP datagram.
//
// Pure and per-packet: noexcept, no allocation. Frames that are not an unfragmented TCP SYN
// over IPv4 or IPv6 (without extension headers), or are cut short, are left alone.
#pragma once

#include <cstdint>
#include <span>

namespace vdemesh::core {

// The largest MSS whose segments fit in an untagged Ethernet frame of `max_frame` bytes.
inline std::uint16_t MssForFrame(std::size_t max_frame, bool ipv6) noexcept {
  const std::size_t headers = 14 + (ipv6 ? 40 : 20) + 20;
  return static_cast<std::uint16_t>(max_frame > headers + 536 ? max_frame - headers : 536);
}

// If `frame` (untagged Ethernet) is a TCP SYN whose MSS option exceeds the limit for its IP
// version, lowers it to that limit and updates the TCP checksum incrementally (RFC 1624).
// Returns true if the frame was changed.
bool ClampTcpMss(std::span<std::uint8_t> frame, std::size_t max_frame) noexcept;

}  // namespace vdemesh::core
