// tso.h: software segmentation of the TCP (TSO) and UDP (USO) super-frames that a TAP opened
// with IFF_VNET_HDR and offloads hands us (up to 64 KiB per read()), and completion of partial
// checksums.
//
// Why: a TAP with offloads lets the kernel give us one 64 KiB TCP frame instead of ~45 frames,
// one read() instead of 45. We cut it here into frames that fit the smallest path (a tunnel
// datagram or a VDE port), each a complete Ethernet/IP/TCP frame with correct checksums, so
// everything downstream (switching, VDE ports, the tunnel) sees ordinary frames.
//
// Pure and per-packet: noexcept, no allocation; every offset is checked against the frame. A
// frame these functions cannot handle is reported (0 / false) and the caller drops it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "vswitchd/core/inet.h"

namespace vdemesh::core {

// struct virtio_net_hdr (linux/virtio_net.h), in the TAP's (native, little-endian) byte order.
struct VnetHeader {
  static constexpr std::size_t kBytes = 10;
  static constexpr std::uint8_t kNeedsCsum = 1;  // VIRTIO_NET_HDR_F_NEEDS_CSUM
  static constexpr std::uint8_t kGsoNone = 0, kGsoTcpV4 = 1, kGsoTcpV6 = 4, kGsoUdpL4 = 5,
                                kGsoEcn = 0x80;

  std::uint8_t flags = 0;
  std::uint8_t gso_type = kGsoNone;
  std::uint16_t hdr_len = 0;
  std::uint16_t gso_size = 0;
  std::uint16_t csum_start = 0;
  std::uint16_t csum_offset = 0;

  static VnetHeader Read(const std::uint8_t* p) noexcept;
  void Write(std::uint8_t* p) const noexcept;
};

// Completes a partial checksum in place: the 16 bits at csum_start + csum_offset become the
// checksum of frame[csum_start..] (whose field holds the pseudo-header sum, as the kernel
// leaves it). False if the offsets do not fit the frame.
bool CompleteChecksum(std::span<std::uint8_t> frame, std::size_t csum_start,
                      std::size_t csum_offset) noexcept;

// Cuts a TCP/IPv4 or TCP/IPv6 super-frame (untagged Ethernet) into segments of at most
// `max_frame` bytes and at most `gso_size` bytes of payload each, written to out[0], out[1], ...
// (each out[i] must have room for max_frame bytes); lengths go to lens[i]. IP lengths, IPv4
// ids and header checksums, TCP sequence numbers, flags (FIN and PSH only on the last segment,
// CWR only on the first) and TCP checksums are set for each segment. Returns the number of
// segments, or 0 if the frame is not such a super-frame or needs more than out.size() segments.
std::size_t SegmentTcp(std::span<const std::uint8_t> frame, std::size_t gso_size,
                       std::size_t max_frame, std::span<std::uint8_t* const> out,
                       std::span<std::size_t> lens) noexcept;

// The same for a UDP/IPv4 or UDP/IPv6 super-frame (UDP GSO, VIRTIO_NET_HDR_GSO_UDP_L4): every
// segment a datagram of its own with `gso_size` bytes of payload (the last may be shorter), IP
// lengths, IPv4 ids and header checksums, UDP lengths and checksums set. 0 if a datagram would
// not fit `max_frame` or more than out.size() segments are needed.
std::size_t SegmentUdp(std::span<const std::uint8_t> frame, std::size_t gso_size,
                       std::size_t max_frame, std::span<std::uint8_t* const> out,
                       std::span<std::size_t> lens) noexcept;

}  // namespace vdemesh::core
