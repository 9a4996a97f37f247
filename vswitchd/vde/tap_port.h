// tap_port.h: opens a Linux TAP device as a switch port (vde_switch's -t), so a host bridge
// (and libvirt's <interface type='bridge'>) can join the network.
#pragma once

#include <boost/system/result.hpp>
#include <string>

namespace vdemesh::vde {

// Opens (creating if needed) TAP interface `name` without packet info headers but with a
// virtio_net_hdr on every frame and TSO/checksum offloads, sets it up, and returns a
// non-blocking fd. Needs CAP_NET_ADMIN.
boost::system::result<int> OpenTap(const std::string& name);

}  // namespace vdemesh::vde
