// vswitchctl_format.h: the human-readable output of vswitchctl, one function per reply kind.
//
// Pure functions from a reply message to the text printed on stdout: no I/O, no daemon, so a
// unit test can feed canned messages. Tables follow `wg show` and `ip -s`: a header row, columns
// padded to their widest cell, and the last column unpadded. Scripts should use --json instead
// (the proto3 JSON mapping of the same messages), whose field names are stable.
#pragma once

#include <string>

#include "control.pb.h"

namespace vdemesh::tools {

// version, pid, uptime, the overlay (when the daemon has one) and one block per network.
std::string FormatStatus(const control::Status& status);
// PORT KIND VLAN RX-FRAMES RX-BYTES TX-FRAMES TX-BYTES DROPS DESCRIPTION
std::string FormatPorts(const control::PortList& ports);
// VLAN MAC PORT/PEER AGE, sorted by VLAN then MAC.
std::string FormatFdb(const control::FdbList& fdb);
// PEER ENDPOINT STATE HANDSHAKE RX TX DROPS KEY, in the daemon's order.
std::string FormatPeers(const control::PeerList& peers);

}  // namespace vdemesh::tools
