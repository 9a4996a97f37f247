// ethernet.h: Ethernet II / 802.1Q header layout and the one parser the switch uses.
//
// Per-packet code: noexcept, no allocation. Parse() only reads; it never trusts a length it has
// not checked against the span.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "vswitchd/core/mac_address.h"

namespace vdemesh::core {

inline constexpr std::size_t kEthHeaderBytes = 14;  // dst, src, ethertype
inline constexpr std::size_t kVlanTagBytes = 4;     // TPID 0x8100 + TCI
inline constexpr std::size_t kMacPairBytes = 12;    // dst + src: where a tag is inserted
inline constexpr std::uint16_t kTpid8021Q = 0x8100;
inline constexpr std::size_t kMaxFrameBytes = 9234;  // VDE_ETHBUFSIZE of vdeplug4: 9216 + 18

struct EthernetHeader {
  MacAddress dst;
  MacAddress src;
  bool tagged = false;    // carries an 802.1Q tag right after the MAC pair
  std::uint16_t vid = 0;  // VLAN id of the tag (0 = priority tag only)

  // nullopt when the frame is shorter than an Ethernet header, or a tag is cut short.
  static std::optional<EthernetHeader> Parse(std::span<const std::uint8_t> frame) noexcept {
    if (frame.size() < kEthHeaderBytes) return std::nullopt;
    EthernetHeader h;
    h.dst = MacAddress::From(frame.data());
    h.src = MacAddress::From(frame.data() + 6);
    const std::uint16_t type = static_cast<std::uint16_t>(frame[12] << 8 | frame[13]);
    if (type == kTpid8021Q) {
      // SECURITY: a tagged frame must hold the tag and an inner ethertype.
      if (frame.size() < kEthHeaderBytes + kVlanTagBytes) return std::nullopt;
      h.tagged = true;
      h.vid = static_cast<std::uint16_t>((frame[14] << 8 | frame[15]) & 0x0fff);
    }
    return h;
  }
};

// Writes the 4-byte 802.1Q tag for `vid` (priority 0) into `out`.
inline void WriteVlanTag(std::uint16_t vid, std::uint8_t out[kVlanTagBytes]) noexcept {
  out[0] = kTpid8021Q >> 8;
  out[1] = kTpid8021Q & 0xff;
  out[2] = static_cast<std::uint8_t>(vid >> 8);
  out[3] = static_cast<std::uint8_t>(vid & 0xff);
}

}  // namespace vdemesh::core
