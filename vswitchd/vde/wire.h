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

}  // namespace vdemesh::vde
