#include "vswitchd/vde/tap_port.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vdemesh::vde {

namespace {

// TUN_F_USO4/6 of Linux 6.2's if_tun.h (Debian 12's headers predate them).
constexpr unsigned kUso4 = 0x20, kUso6 = 0x40;

boost::system::error_code CloseWithErrno(int fd) {
  const int err = errno;
  if (fd >= 0) close(fd);
  return {err, boost::system::system_category()};
}

}  // namespace

boost::system::result<OpenedTap> OpenTap(const std::string& name) {
  ifreq ifr{};
  if (name.empty() || name.size() >= sizeof ifr.ifr_name)
    return boost::system::error_code(EINVAL, boost::system::system_category());
  const int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return CloseWithErrno(-1);
  std::strncpy(ifr.ifr_name, name.c_str(), sizeof ifr.ifr_name - 1);
  // Every frame carries a virtio_net_hdr (tso.h), so the kernel can hand us 64 KiB TCP
  // super-frames (TSO) and frames whose checksum is still to be filled in.
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
  if (ioctl(fd, TUNSETIFF, &ifr) != 0) return CloseWithErrno(fd);
  // Without these offloads the kernel segments and checksums itself: slower, still correct.
  // A kernel that does not know USO refuses the whole set, so that set is tried first.
  const unsigned tcp_offloads = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
  const bool udp_offload = ioctl(fd, TUNSETOFFLOAD, tcp_offloads | kUso4 | kUso6) == 0;
  if (!udp_offload) ioctl(fd, TUNSETOFFLOAD, tcp_offloads);

  // Bring the link up so that a bridge it is added to forwards at once.
  const int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s >= 0) {
    if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
      ifr.ifr_flags |= IFF_UP;
      ioctl(s, SIOCSIFFLAGS, &ifr);
    }
    close(s);
  }
  return OpenedTap{fd, udp_offload};
}

}  // namespace vdemesh::vde
