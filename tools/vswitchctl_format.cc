// vswitchctl_format.cc: tables and summaries for vswitchctl. See vswitchctl_format.h.
#include "tools/vswitchctl_format.h"

#include <algorithm>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <set>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace vdemesh::tools {
namespace {

using Row = std::vector<std::string>;
using Drops = google::protobuf::Map<std::string, std::uint64_t>;

__attribute__((format(printf, 2, 3))) void Appendf(std::string* out, const char* fmt, ...) {
  char buf[512];
  va_list args;
  va_start(args, fmt);
  const int n = std::vsnprintf(buf, sizeof(buf), fmt, args);
  va_end(args);
  if (n < 0) return;
  if (static_cast<std::size_t>(n) < sizeof(buf)) {
    out->append(buf, static_cast<std::size_t>(n));
    return;
  }
  // Rare: a long value (a switch directory, a listen list). Format again at full size.
  std::string big(static_cast<std::size_t>(n) + 1, '\0');
  va_start(args, fmt);
  std::vsnprintf(big.data(), big.size(), fmt, args);
  va_end(args);
  big.pop_back();
  out->append(big);
}

unsigned long long Ull(std::uint64_t n) { return static_cast<unsigned long long>(n); }

const char* OrDash(const std::string& s) { return s.empty() ? "-" : s.c_str(); }

std::string HumanBytes(std::uint64_t n) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = static_cast<double>(n);
  std::size_t u = 0;
  for (; v >= 1024 && u + 1 < std::size(kUnits); ++u) v /= 1024;
  char buf[32];
  std::snprintf(buf, sizeof(buf), u == 0 ? "%.0f%s" : "%.1f%s", v, kUnits[u]);
  return buf;
}

// 45s, 5m12s, 2h03m, 3d04h: the two most significant units, like `wg show`'s handshakes.
std::string Duration(std::uint64_t s) {
  char buf[32];
  if (s < 60)
    std::snprintf(buf, sizeof(buf), "%llus", Ull(s));
  else if (s < 3600)
    std::snprintf(buf, sizeof(buf), "%llum%02llus", Ull(s / 60), Ull(s % 60));
  else if (s < 86400)
    std::snprintf(buf, sizeof(buf), "%lluh%02llum", Ull(s / 3600), Ull(s / 60 % 60));
  else
    std::snprintf(buf, sizeof(buf), "%llud%02lluh", Ull(s / 86400), Ull(s / 3600 % 24));
  return buf;
}

// "10,20-22": consecutive VLANs folded into ranges.
std::string VlanRanges(const google::protobuf::RepeatedField<std::uint32_t>& list) {
  std::vector<std::uint32_t> v(list.begin(), list.end());
  std::sort(v.begin(), v.end());
  std::string out;
  for (std::size_t i = 0; i < v.size();) {
    std::size_t j = i;
    while (j + 1 < v.size() && v[j + 1] == v[j] + 1) ++j;
    out += (out.empty() ? "" : ",") + std::to_string(v[i]);
    if (j > i) out += "-" + std::to_string(v[j]);
    i = j + 1;
  }
  return out.empty() ? "none" : out;
}

// "reason=count,..." sorted by reason, zero counts left out; `none` when nothing was dropped.
std::string DropList(const Drops& drops, const char* none = "-") {
  std::set<std::pair<std::string, std::uint64_t>> sorted(drops.begin(), drops.end());
  std::string out;
  for (const auto& [reason, count] : sorted) {
    if (count != 0) out += (out.empty() ? "" : ",") + reason + "=" + std::to_string(count);
  }
  return out.empty() ? none : out;
}

// Columns padded to their widest cell; `align` holds 'l' or 'r' per column. The last column
// is not padded, so free text (a description) may hold spaces.
std::string FormatTable(std::string_view align, const std::vector<Row>& rows) {
  std::vector<std::size_t> width(align.size(), 0);
  for (const Row& row : rows) {
    for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  std::string out;
  for (const Row& row : rows) {
    for (std::size_t c = 0; c < row.size(); ++c) {
      const std::string pad(c + 1 == row.size() ? 0 : width[c] - row[c].size(), ' ');
      out += align[c] == 'r' ? pad + row[c] : row[c] + pad;
      if (c + 1 < row.size()) out += "  ";
    }
    out += '\n';
  }
  return out;
}

// A '*' marks a VLAN its client chose (vdemesh://...[vlan=V]), which lasts while it stays.
std::string VlanColumn(const control::Port& p) {
  const char* mark = p.vlan_from_client() ? "*" : "";
  if (p.vlan_mode() == "access") return std::to_string(p.access_vlan()) + mark;
  if (p.vlan_mode() != "trunk") return p.vlan_mode().empty() ? "-" : p.vlan_mode();
  std::string out = "trunk:" + VlanRanges(p.trunk_vlans());
  if (p.native_vlan() != 0) out += "/native=" + std::to_string(p.native_vlan());
  return out + mark;
}

// "12s ago", or "never" (the daemon sends -1 for a peer it never completed a handshake with).
std::string HandshakeAge(std::int64_t seconds) {
  if (seconds < 0) return "never";
  return Duration(static_cast<std::uint64_t>(seconds)) + " ago";
}

// "packets/bytes", e.g. "1200/1.4MiB": one column per direction keeps the table narrow.
std::string Traffic(std::uint64_t packets, std::uint64_t bytes) {
  return std::to_string(packets) + "/" + HumanBytes(bytes);
}

Row PeerRow(const control::Peer& p) {
  // A configured address that has not answered yet has no key, so nothing to show but that.
  const bool pending = p.public_key().empty();
  std::string endpoint = OrDash(p.endpoint());
  if (!p.peer_name().empty()) endpoint += " (" + p.peer_name() + ")";
  return {pending ? "(pending)" : p.fingerprint(),
          endpoint,
          OrDash(p.state()),
          HandshakeAge(p.last_handshake_seconds()),
          Traffic(p.rx_packets(), p.rx_bytes()),
          Traffic(p.tx_packets(), p.tx_bytes()),
          DropList(p.drops()),
          pending ? "-" : p.public_key()};
}

std::string Join(const google::protobuf::RepeatedPtrField<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
  return out.empty() ? "none" : out;
}

std::string FormatOverlay(const control::Overlay& o) {
  std::string out;
  Appendf(&out, "overlay:\n  public key: %s\n", OrDash(o.public_key()));
  Appendf(&out, "  listen: %s\n", Join(o.listen()).c_str());
  Appendf(&out, "  drops: %s\n", DropList(o.drops(), "none").c_str());
  return out;
}

std::string FormatNetwork(const control::NetworkStatus& n) {
  std::string out;
  Appendf(&out, "network: %s\n  switch dir: %s\n", OrDash(n.name()), OrDash(n.switch_dir()));
  if (!n.tap().empty()) {
    Appendf(&out, "  tap: %s", n.tap().c_str());
    if (!n.tap_reads().empty())
      Appendf(&out, " (reads: %s)",
              n.tap_reads() == "io_uring" ? "io_uring batches" : "one read() a frame");
    out += "\n";
  }
  Appendf(&out, "  datapath thread: %u", n.datapath_thread());
  if (n.busy_poll_us() > 0) {
    Appendf(&out, " (busy-polls %u us after traffic)\n", n.busy_poll_us());
  } else {
    out += " (sleeps when idle)\n";
  }
  Appendf(&out, "  ports: %u of %u in use\n", n.ports_in_use(), n.numports());
  Appendf(&out, "  fdb: %llu of %llu entries, aging %s\n", Ull(n.fdb_entries()),
          Ull(n.fdb_max_entries()), Duration(n.fdb_aging_seconds()).c_str());
  Appendf(&out, "  max frame: %u bytes\n", n.max_frame());
  Appendf(&out, "  overlay: %s\n", n.overlay() ? "yes" : "no");
  Appendf(&out, "  peers: %u/%u up\n", n.peers_up(), n.peers_total());
  Appendf(&out, "  drops: %s\n", DropList(n.drops(), "none").c_str());
  return out;
}

}  // namespace

std::string FormatStatus(const control::Status& s) {
  std::string out;
  Appendf(&out, "version: %s\npid: %u\nuptime: %s\n", OrDash(s.version()), s.pid(),
          Duration(s.uptime_seconds()).c_str());
  if (s.has_overlay()) out += "\n" + FormatOverlay(s.overlay());
  for (const control::NetworkStatus& n : s.networks()) out += "\n" + FormatNetwork(n);
  return out;
}

std::string FormatPorts(const control::PortList& ports) {
  std::vector<Row> rows = {{"PORT", "KIND", "VLAN", "RX-FRAMES", "RX-BYTES", "TX-FRAMES",
                            "TX-BYTES", "DROPS", "DESCRIPTION"}};
  for (const control::Port& p : ports.ports()) {
    const control::Counters& c = p.counters();
    std::string description = p.description();
    if (p.endpoints_size() > 1) description += " (+" + std::to_string(p.endpoints_size() - 1) + ")";
    rows.push_back({std::to_string(p.number()), p.kind(), VlanColumn(p),
                    std::to_string(c.rx_frames()), HumanBytes(c.rx_bytes()),
                    std::to_string(c.tx_frames()), HumanBytes(c.tx_bytes()), DropList(c.drops()),
                    description});
  }
  std::string out = FormatTable("rllrrrrll", rows);
  for (const control::Port& p : ports.ports()) {
    if (!p.vlan_from_client()) continue;
    out += "* chosen by the port's client (vdemesh://); the port's own setting returns after it\n";
    break;
  }
  return out;
}

std::string FormatFdb(const control::FdbList& fdb) {
  std::vector<const control::FdbEntry*> entries;
  for (const auto& e : fdb.entries()) entries.push_back(&e);
  std::sort(entries.begin(), entries.end(), [](const auto* a, const auto* b) {
    return std::forward_as_tuple(a->vlan(), a->mac()) < std::forward_as_tuple(b->vlan(), b->mac());
  });
  std::vector<Row> rows = {{"VLAN", "MAC", "PORT/PEER", "AGE"}};
  for (const auto* e : entries) {
    const std::string where = e->peer().empty() ? std::to_string(e->port()) : "peer " + e->peer();
    rows.push_back({std::to_string(e->vlan()), e->mac(), where, Duration(e->age_seconds())});
  }
  return FormatTable("rllr", rows);
}

std::string FormatPeers(const control::PeerList& peers) {
  std::vector<Row> rows = {{"PEER", "ENDPOINT", "STATE", "HANDSHAKE", "RX", "TX", "DROPS", "KEY"}};
  for (const control::Peer& p : peers.peers()) rows.push_back(PeerRow(p));
  return FormatTable("lllrrrll", rows);
}

}  // namespace vdemesh::tools
