#include "vswitchd/core/switch_core.h"

#include <cstring>

#include "common/check.h"
#include "vswitchd/core/ethernet.h"

namespace vdemesh::core {

const char* DropName(Drop d) noexcept {
  switch (d) {
    case Drop::kTooShort:
      return "too_short";
    case Drop::kTooLong:
      return "too_long";
    case Drop::kVlanNotAllowed:
      return "vlan_not_allowed";
    case Drop::kUntaggedOnTrunk:
      return "untagged_on_trunk";
    case Drop::kBadSourceMac:
      return "bad_source_mac";
    case Drop::kSamePort:
      return "same_port";
    case Drop::kTxFull:
      return "tx_full";
    case Drop::kTxError:
      return "tx_error";
    case Drop::kCount:
      break;
  }
  return "unknown";
}

const char* SwitchDropName(SwitchDrop d) noexcept {
  switch (d) {
    case SwitchDrop::kFdbFull:
      return "fdb_full";
    case SwitchDrop::kPeerBadFrame:
      return "peer_bad_frame";
    case SwitchDrop::kPeerSplitHorizon:
      return "peer_split_horizon";
    case SwitchDrop::kCount:
      break;
  }
  return "unknown";
}

void SwitchCore::Learn(std::uint16_t vlan, const MacAddress& src, Location where,
                       Clock::time_point now) noexcept {
  if (fdb_.Learn(vlan, src, where, now) == LearnResult::kTableFull) Drop(SwitchDrop::kFdbFull);
}

SwitchCore::SwitchCore(const Options& options)
    : max_frame_(options.max_frame), ports_(options.numports), fdb_(options.fdb) {}

Forwarding SwitchCore::Ingress(std::uint32_t in, std::span<std::uint8_t>* frame,
                               Clock::time_point now) noexcept {
  VDEMESH_CHECK(in < ports_.size());
  PortState& port = ports_[in];
  PortCounters& c = port.counters;
  ++c.rx_frames;
  c.rx_bytes += frame->size();

  const auto hdr = EthernetHeader::Parse(*frame);
  if (!hdr) return Drop(c, Drop::kTooShort);
  if (frame->size() > max_frame_ + (hdr->tagged ? kVlanTagBytes : 0))
    return Drop(c, Drop::kTooLong);

  Forwarding fwd;
  switch (port.vlan.Classify(hdr->tagged, hdr->vid, &fwd.vlan)) {
    case VlanVerdict::kAccept:
      break;
    case VlanVerdict::kNotAllowed:
      return Drop(c, Drop::kVlanNotAllowed);
    case VlanVerdict::kUntaggedOnTrunk:
      return Drop(c, Drop::kUntaggedOnTrunk);
  }
  if (hdr->src.IsMulticast() || hdr->src.IsZero()) return Drop(c, Drop::kBadSourceMac);
  if (hdr->tagged) {
    // Inside the switch every frame is untagged plus fwd.vlan; egress re-tags per port.
    std::memmove(frame->data() + kVlanTagBytes, frame->data(), kMacPairBytes);
    *frame = frame->subspan(kVlanTagBytes);
  }

  const Location here{Location::Kind::kPort, in};
  Learn(fwd.vlan, hdr->src, here, now);
  if (!hdr->dst.IsMulticast()) {
    if (const auto where = fdb_.Lookup(fwd.vlan, hdr->dst, now)) {
      if (*where == here) return Drop(c, Drop::kSamePort);
      fwd.action = Forwarding::Action::kUnicast;
      fwd.to = *where;
      return fwd;
    }
  }
  fwd.action = Forwarding::Action::kFlood;
  return fwd;
}

Forwarding SwitchCore::IngressFromPeer(std::uint32_t peer, std::uint16_t vlan,
                                       std::span<const std::uint8_t> frame,
                                       Clock::time_point now) noexcept {
  // SECURITY: the peer holds the network key, but its frames get the same checks as a guest's.
  const auto hdr = EthernetHeader::Parse(frame);
  if (!hdr || hdr->tagged || frame.size() > max_frame_ || !IsValidVlan(vlan) ||
      hdr->src.IsMulticast() || hdr->src.IsZero())
    return Drop(SwitchDrop::kPeerBadFrame);
  Learn(vlan, hdr->src, {Location::Kind::kPeer, peer}, now);
  Forwarding fwd;
  fwd.vlan = vlan;
  if (!hdr->dst.IsMulticast()) {
    if (const auto where = fdb_.Lookup(vlan, hdr->dst, now)) {
      if (where->kind == Location::Kind::kPeer) return Drop(SwitchDrop::kPeerSplitHorizon);
      fwd.action = Forwarding::Action::kUnicast;
      fwd.to = *where;
      return fwd;
    }
  }
  fwd.action = Forwarding::Action::kFlood;
  return fwd;
}

void SwitchCore::SetActive(std::uint32_t port, bool active) {
  VDEMESH_CHECK(port < ports_.size());
  if (!active) fdb_.Forget({Location::Kind::kPort, port});
  if (active && !ports_[port].active) ports_[port].counters = {};
  ports_[port].active = active;
}

void SwitchCore::SetPortVlan(std::uint32_t port, const PortVlan& vlan) {
  VDEMESH_CHECK(port < ports_.size());
  fdb_.Forget({Location::Kind::kPort, port});
  ports_[port].vlan = vlan;
}

}  // namespace vdemesh::core
