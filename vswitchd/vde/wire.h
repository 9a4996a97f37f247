// wire.h: the vde_switch control protocol, version 3: the one copy of its layout in vdemesh.
//
// Header-only and dependency-free: the vdemesh:// plugin includes it too.
//
// A client connects a SOCK_STREAM socket to DIR/ctl and writes one request_v3; the description
// is sent without its unused tail (and without a NUL when it fills all 128 bytes), so the
// message is 122..250 bytes. The switch answers with the sockaddr_un of its data socket for
// this client, and frames then flow one per datagram. EOF on the stream unplugs the client.
#pragma once

#include <sys/un.h>

#include <cstddef>
#include <cstdint>

namespace vdemesh::vde {

inline constexpr std::uint32_t kSwitchMagic = 0xfeedface;
inline constexpr std::uint32_t kVersion3 = 3;
inline constexpr std::size_t kMaxDescription = 128;  // MAXDESCR of libvdeplug

// The low byte of `type`; the requested port number sits in the bits above it.
enum RequestType : std::uint32_t { kReqNewControl = 0, kReqNewPort0 = 1 };

struct RequestV3 {
  std::uint32_t magic;
  std::uint32_t version;
  std::uint32_t type;  // an enum in C: 4 bytes on every Linux ABI
  struct sockaddr_un sock;
  char description[kMaxDescription];
} __attribute__((packed));

inline constexpr std::size_t kRequestFixedBytes = offsetof(RequestV3, description);
inline constexpr std::size_t kRequestMaxBytes = sizeof(RequestV3);
inline constexpr std::size_t kReplyBytes = sizeof(struct sockaddr_un);

static_assert(kRequestFixedBytes == 122, "request_v3 layout must match libvdeplug");
static_assert(kRequestMaxBytes == 250, "request_v3 layout must match libvdeplug");
static_assert(kReplyBytes == 110, "the reply is a sockaddr_un");

// vdemesh's extension, spoken by the vdemesh:// plugin. libvdeplug sends the description
// without its NUL, so nothing of a stock client's ever follows one. A vdemesh client ends its
// description with a NUL and appends the marker and its options, space-separated, all inside
// the 128 description bytes: "vdemesh/1", "vdemesh/1 vlan=10", "vdemesh/1 trunk=10,20-30
// native=5". vde_switch stops at the NUL and never sees them.
//
// vswitchd answers such a client with a status of kStatusBytes first, NUL-padded: kStatusOk,
// then the usual sockaddr_un; or kStatusError and the reason, then EOF. The client thus learns
// why it was refused, and whether it reached vswitchd at all: a stock switch's answer is the
// sockaddr_un alone, which starts with AF_UNIX (bytes 01 00), never with the marker.
inline constexpr char kExtensionMarker[] = "vdemesh/1";
inline constexpr std::size_t kStatusBytes = 128;
inline constexpr char kStatusOk[] = "vdemesh/1 ok";
inline constexpr char kStatusError[] = "vdemesh/1 error: ";

}  // namespace vdemesh::vde
