// vdemesh_url.h: what a vdemesh:// URL asks for (libvdeplug hands the plugin the part after
// "vdemesh://").
//
//   vdemesh://NETWORK[OPTIONS]   the switch of that network: /run/vdemesh/NETWORK
//   vdemesh:///DIR[OPTIONS]      the switch directory DIR (any path with a slash)
//   OPTIONS: '[' options separated by '/' ']', as vde:// has them:
//     N, port=N          that port (0 is port 0 itself, as in vde://)
//     vlan=V             the port becomes an access port of VLAN V
//     trunk=LIST         ... an 802.1Q trunk of LIST ("10,20-30"), with native=V for untagged
//
// The VLAN options go to vswitchd as they are written and it checks them (wire.h's extension);
// here only their names and the port number are checked, so that a typo is refused before
// anything is sent. Pure: no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vdemesh::plugin {

inline constexpr std::string_view kRunDir = "/run/vdemesh";

struct VdemeshUrl {
  std::string dir;                    // the switch directory
  std::optional<std::uint32_t> port;  // a port was asked for (0: port 0 itself)
  std::string switch_options;         // for the extension: "vlan=10", "trunk=10,20 native=5"
};

// nullopt, with *err saying why, on a URL that asks for nothing or for something unknown.
std::optional<VdemeshUrl> ParseVdemeshUrl(std::string_view url, std::string* err);

}  // namespace vdemesh::plugin
