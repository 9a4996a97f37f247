#include "vswitchd/core/vlan.h"

#include <charconv>

namespace vdemesh::core {

std::vector<std::uint16_t> VlanSet::ToVector() const {
  std::vector<std::uint16_t> out;
  for (std::uint16_t v = kMinVlan; v <= kMaxVlan; ++v)
    if (bits_.test(v)) out.push_back(v);
  return out;
}

std::string VlanSet::ToString() const {
  std::string out;
  for (unsigned v = kMinVlan; v <= kMaxVlan; ++v) {
    if (!bits_.test(v)) continue;
    unsigned last = v;
    while (last < kMaxVlan && bits_.test(last + 1)) ++last;
    if (!out.empty()) out += ',';
    out += std::to_string(v);
    if (last > v) out += '-' + std::to_string(last);
    v = last;
  }
  return out;
}

std::optional<std::uint16_t> ParseVlanId(std::string_view s, std::string* err) {
  unsigned v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || !IsValidVlan(v)) {
    *err = "bad VLAN id '" + std::string(s) + "' (expected 1..4094)";
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(v);
}

std::optional<VlanSet> VlanSet::Parse(std::string_view text, std::string* err) {
  VlanSet set;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    const auto dash = item.find('-');
    auto lo = ParseVlanId(item.substr(0, dash), err);
    if (!lo) return std::nullopt;
    auto hi = dash == std::string_view::npos ? lo : ParseVlanId(item.substr(dash + 1), err);
    if (!hi) return std::nullopt;
    if (*hi < *lo) {
      *err = "bad VLAN range '" + std::string(item) + "'";
      return std::nullopt;
    }
    for (unsigned v = *lo; v <= *hi; ++v) set.Add(static_cast<std::uint16_t>(v));
  }
  if (set.empty()) {
    *err = "empty VLAN list";
    return std::nullopt;
  }
  return set;
}

PortVlan PortVlan::Access(std::uint16_t vid) {
  PortVlan p;
  p.access_vid_ = vid;
  return p;
}

PortVlan PortVlan::Trunk(VlanSet allowed, std::uint16_t native_vid) {
  PortVlan p;
  p.trunk_ = true;
  p.access_vid_ = 0;
  p.allowed_ = allowed;
  p.native_vid_ = native_vid;
  return p;
}

VlanVerdict PortVlan::Classify(bool tagged, std::uint16_t tag_vid,
                               std::uint16_t* vlan) const noexcept {
  const bool untagged = !tagged || tag_vid == 0;
  if (!trunk_) {
    // An access port accepts untagged frames and, leniently, frames tagged with its own VLAN
    // (a guest that tags its traffic by mistake still reaches its own segment).
    if (!untagged && tag_vid != access_vid_) return VlanVerdict::kNotAllowed;
    *vlan = access_vid_;
    return VlanVerdict::kAccept;
  }
  if (untagged) {
    if (native_vid_ == 0) return VlanVerdict::kUntaggedOnTrunk;
    *vlan = native_vid_;
    return VlanVerdict::kAccept;
  }
  if (!allowed_.Contains(tag_vid)) return VlanVerdict::kNotAllowed;
  *vlan = tag_vid;
  return VlanVerdict::kAccept;
}

bool PortVlan::Carries(std::uint16_t vlan) const noexcept {
  if (!trunk_) return vlan == access_vid_;
  return (native_vid_ != 0 && vlan == native_vid_) || allowed_.Contains(vlan);  // 0 = no native
}

std::string PortVlan::ToString() const {
  if (!trunk_) return "access VLAN " + std::to_string(access_vid_);
  std::string out = "trunk VLANs " + allowed_.ToString();
  if (native_vid_ != 0) out += " native " + std::to_string(native_vid_);
  return out;
}

}  // namespace vdemesh::core
