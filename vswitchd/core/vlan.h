// vlan.h: the VLAN rules of one port: access (untagged, one VLAN) or trunk (802.1Q tagged,
// an allowed set, optionally a native VLAN for untagged frames).
//
// All 4094 VLAN ids are distinct (a bitset of 4096, no aliasing). Pure value types.
#pragma once

#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vdemesh::core {

inline constexpr std::uint16_t kMinVlan = 1;
inline constexpr std::uint16_t kMaxVlan = 4094;
inline constexpr std::uint16_t kDefaultVlan = 1;

constexpr bool IsValidVlan(unsigned v) { return v >= kMinVlan && v <= kMaxVlan; }
// "10" -> 10; nullopt (and *err) on anything but a decimal id in 1..4094.
std::optional<std::uint16_t> ParseVlanId(std::string_view text, std::string* err);

class VlanSet {
 public:
  void Add(std::uint16_t vid) { bits_.set(vid); }
  bool Contains(std::uint16_t vid) const noexcept { return vid < bits_.size() && bits_.test(vid); }
  bool empty() const { return bits_.none(); }
  std::vector<std::uint16_t> ToVector() const;
  std::string ToString() const;  // "10,20-30", the form Parse() reads
  // "10,20,30-40" -> set; nullopt (and *err) on a bad list or an id outside 1..4094.
  static std::optional<VlanSet> Parse(std::string_view text, std::string* err);

 private:
  std::bitset<4096> bits_;
};

// What ingress classification decided for one frame.
enum class VlanVerdict : std::uint8_t { kAccept, kNotAllowed, kUntaggedOnTrunk };

class PortVlan {
 public:
  static PortVlan Access(std::uint16_t vid);
  static PortVlan Trunk(VlanSet allowed, std::uint16_t native_vid /* 0 = none */);

  bool is_trunk() const noexcept { return trunk_; }
  std::uint16_t access_vlan() const noexcept { return access_vid_; }
  std::uint16_t native_vlan() const noexcept { return native_vid_; }
  const VlanSet& allowed() const noexcept { return allowed_; }

  // Decides the VLAN of a frame arriving on this port. `tagged`/`tag_vid` come from the
  // frame; a priority tag (vid 0) counts as untagged. On kAccept, *vlan is set.
  VlanVerdict Classify(bool tagged, std::uint16_t tag_vid, std::uint16_t* vlan) const noexcept;
  // Whether frames of `vlan` leave through this port at all.
  bool Carries(std::uint16_t vlan) const noexcept;
  // Whether frames of `vlan` leave this port with an 802.1Q tag.
  bool EgressTagged(std::uint16_t vlan) const noexcept { return trunk_ && vlan != native_vid_; }
  // "access VLAN 10", "trunk VLANs 10,20-30", "trunk VLANs 10 native 5": for logs.
  std::string ToString() const;

 private:
  bool trunk_ = false;
  std::uint16_t access_vid_ = kDefaultVlan;
  std::uint16_t native_vid_ = 0;
  VlanSet allowed_;
};

}  // namespace vdemesh::core
