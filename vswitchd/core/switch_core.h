// switch_core.h: the forwarding decisions of one network's learning switch.
//
// Pure: no sockets, no clock (`now` is an argument), no logging. The datapath feeds it one frame
// at a time and carries out the verdict; the control plane changes port VLANs through it.
// Thread affinity: owned by the network's datapath shard; never locked.
//
// Pipeline of Ingress(): size check -> VLAN classification (tag stripped in place, so every
// frame inside the switch is untagged plus a VLAN id) -> source learning -> destination lookup.
// Invariant: the FDB never points at an inactive port or at a port that no longer carries the
// entry's VLAN: SetActive(false) and SetPortVlan() forget the port's entries first.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "vswitchd/core/mac_table.h"
#include "vswitchd/core/vlan.h"

namespace vdemesh::core {

// Why a frame was dropped, per port. Names are the API (`vswitchctl ports`, JSON).
enum class Drop : std::uint8_t {
  kTooShort,         // shorter than an Ethernet header
  kTooLong,          // longer than the configured maximum
  kVlanNotAllowed,   // tagged with a VLAN the port does not carry
  kUntaggedOnTrunk,  // untagged on a trunk without a native VLAN
  kBadSourceMac,     // multicast or all-zero source address
  kSamePort,         // destination lives on the port it came from
  kTxFull,           // the client's socket was full (it reads too slowly)
  kTxError,          // the client's socket failed (it went away)
  kCount
};
inline constexpr std::size_t kDropCount = static_cast<std::size_t>(Drop::kCount);
const char* DropName(Drop d) noexcept;

// Switch-wide drops, not attributable to one port's traffic rules.
enum class SwitchDrop : std::uint8_t {
  kFdbFull,           // a new MAC could not be learned: the table is at its bound
  kPeerBadFrame,      // a frame from a peer that is too short or long, or has a bad VLAN/source
  kPeerSplitHorizon,  // a frame from a peer for a MAC behind another peer: never re-sent
  kCount
};
inline constexpr std::size_t kSwitchDropCount = static_cast<std::size_t>(SwitchDrop::kCount);
const char* SwitchDropName(SwitchDrop d) noexcept;

struct PortCounters {
  std::uint64_t rx_frames = 0;
  std::uint64_t rx_bytes = 0;
  std::uint64_t tx_frames = 0;
  std::uint64_t tx_bytes = 0;
  std::array<std::uint64_t, kDropCount> drops{};

  void Count(Drop d) noexcept { ++drops[static_cast<std::size_t>(d)]; }
};

struct Forwarding {
  enum class Action : std::uint8_t { kDrop, kUnicast, kFlood };
  Action action = Action::kDrop;
  std::uint16_t vlan = 0;
  Location to;  // the egress port or peer of kUnicast
};

class SwitchCore {
 public:
  struct Options {
    std::uint32_t numports = 32;
    std::size_t max_frame = 1514;  // largest untagged frame; a tagged one may be 4 bytes longer
    MacTable::Options fdb;
  };

  explicit SwitchCore(const Options& options);

  // Decides where `*frame`, received on local port `in`, goes. Strips an 802.1Q tag in place
  // (then *frame starts 4 bytes later). Counts rx and drops on port `in`.
  Forwarding Ingress(std::uint32_t in, std::span<std::uint8_t>* frame,
                     Clock::time_point now) noexcept;
  // Decides where an untagged `frame` of `vlan` from overlay peer `peer` goes: to local ports
  // only (split horizon: a full mesh needs no loop prevention between hosts).
  Forwarding IngressFromPeer(std::uint32_t peer, std::uint16_t vlan,
                             std::span<const std::uint8_t> frame, Clock::time_point now) noexcept;
  // A peer went down: its MACs are forgotten and flood until re-learned.
  void ForgetPeer(std::uint32_t peer) { fdb_.Forget({Location::Kind::kPeer, peer}); }

  // Whether a frame of `vlan` may leave through `port` (active and carrying the VLAN).
  bool Carries(std::uint32_t port, std::uint16_t vlan) const noexcept {
    const PortState& p = ports_[port];
    return p.active && p.vlan.Carries(vlan);
  }
  bool EgressTagged(std::uint32_t port, std::uint16_t vlan) const noexcept {
    return ports_[port].vlan.EgressTagged(vlan);
  }

  void SetActive(std::uint32_t port, bool active);
  void SetPortVlan(std::uint32_t port, const PortVlan& vlan);
  std::size_t Expire(Clock::time_point now) { return fdb_.Expire(now); }
  std::size_t ExpireSome(Clock::time_point now, std::size_t slots) {
    return fdb_.ExpireSome(now, slots);
  }

  bool IsValidPort(std::uint32_t port) const noexcept { return port < ports_.size(); }
  bool active(std::uint32_t port) const { return ports_[port].active; }
  const PortVlan& port_vlan(std::uint32_t port) const { return ports_[port].vlan; }
  PortCounters& counters(std::uint32_t port) noexcept { return ports_[port].counters; }
  const PortCounters& counters(std::uint32_t port) const { return ports_[port].counters; }
  const std::array<std::uint64_t, kSwitchDropCount>& switch_drops() const { return drops_; }
  const MacTable& fdb() const { return fdb_; }
  std::uint32_t numports() const { return static_cast<std::uint32_t>(ports_.size()); }
  std::size_t max_frame() const { return max_frame_; }

 private:
  struct PortState {
    bool active = false;
    PortVlan vlan = PortVlan::Access(kDefaultVlan);
    PortCounters counters;
  };
  Forwarding Drop(PortCounters& c, core::Drop why) noexcept {
    c.Count(why);
    return {};
  }
  Forwarding Drop(SwitchDrop why) noexcept {
    ++drops_[static_cast<std::size_t>(why)];
    return {};
  }
  void Learn(std::uint16_t vlan, const MacAddress& src, Location where,
             Clock::time_point now) noexcept;

  std::size_t max_frame_;
  std::vector<PortState> ports_;
  MacTable fdb_;
  std::array<std::uint64_t, kSwitchDropCount> drops_{};
};

}  // namespace vdemesh::core
