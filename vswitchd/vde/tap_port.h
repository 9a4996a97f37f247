// tap_port.h: opens a Linux TAP device as a switch port (vde_switch's -t), so a host bridge
// (and libvirt's <interface type='bridge'>) can join the network.
#pragma once

#include <boost/system/result.hpp>
#include <string>

namespace vdemesh::vde {

struct OpenedTap {
  int fd;            // non-blocking
  bool udp_offload;  // the kernel takes and gives UDP GSO frames (USO, Linux 6.2+)
};

// Opens (creating if needed) TAP interface `name` without packet info headers but with a
// virtio_net_hdr on every frame and TSO/USO/checksum offloads (what the kernel knows of them),
// and sets it up. Needs CAP_NET_ADMIN.
boost::system::result<OpenedTap> OpenTap(const std::string& name);

}  // namespace vdemesh::vde
