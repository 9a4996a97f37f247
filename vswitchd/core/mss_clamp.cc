#include "vswitchd/core/mss_clamp.h"

namespace vdemesh::core {

namespace {

constexpr std::size_t kEthHeader = 14;
constexpr std::uint8_t kTcp = 6;
constexpr std::uint8_t kSyn = 0x02;
constexpr std::uint8_t kOptEnd = 0;
constexpr std::uint8_t kOptNop = 1;
constexpr std::uint8_t kOptMss = 2;

std::uint16_t Load16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }
void Store16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}

// RFC 1624, eqn. 3: HC' = ~(~HC + ~m + m'), in one's complement arithmetic.
std::uint16_t UpdateChecksum(std::uint16_t sum, std::uint16_t old_word, std::uint16_t new_word) {
  std::uint32_t s = static_cast<std::uint16_t>(~sum);
  s += static_cast<std::uint16_t>(~old_word);
  s += new_word;
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  return static_cast<std::uint16_t>(~s);
}

// Offset of the TCP header in `frame`, or 0 if the frame is not unfragmented TCP.
std::size_t TcpOffset(std::span<const std::uint8_t> frame, bool* ipv6) {
  if (frame.size() < kEthHeader + 40) return 0;
  const std::uint16_t type = Load16(frame.data() + 12);
  const std::uint8_t* ip = frame.data() + kEthHeader;
  if (type == 0x0800) {
    const std::size_t ihl = (ip[0] & 0x0f) * 4u;
    const bool first_fragment = (Load16(ip + 6) & 0x1fff) == 0;
    if ((ip[0] >> 4) != 4 || ihl < 20 || ip[9] != kTcp || !first_fragment) return 0;
    *ipv6 = false;
    return kEthHeader + ihl;
  }
  if (type == 0x86dd) {
    if ((ip[0] >> 4) != 6 || ip[6] != kTcp) return 0;
    *ipv6 = true;
    return kEthHeader + 40;
  }
  return 0;
}

}  // namespace

bool ClampTcpMss(std::span<std::uint8_t> frame, std::size_t max_frame) noexcept {
  bool ipv6 = false;
  const std::size_t tcp = TcpOffset(frame, &ipv6);
  // SECURITY: every offset below is checked against the frame before it is read.
  if (tcp == 0 || frame.size() < tcp + 20 || (frame[tcp + 13] & kSyn) == 0) return false;
  const std::size_t header_len = (frame[tcp + 12] >> 4) * 4u;
  if (header_len < 20 || frame.size() < tcp + header_len) return false;
  const std::uint16_t limit = MssForFrame(max_frame, ipv6);
  for (std::size_t opt = tcp + 20; opt < tcp + header_len;) {
    const std::uint8_t kind = frame[opt];
    if (kind == kOptEnd) break;
    if (kind == kOptNop) {
      ++opt;
      continue;
    }
    if (opt + 1 >= tcp + header_len) break;
    const std::size_t len = frame[opt + 1];
    if (len < 2 || opt + len > tcp + header_len) break;
    if (kind == kOptMss && len == 4) {
      const std::uint16_t mss = Load16(&frame[opt + 2]);
      if (mss <= limit) return false;
      // The checksum sums 16-bit words from the start of the TCP header; every stack puts the
      // MSS option on a word boundary. One that does not is left alone rather than guessed.
      if (((opt + 2 - tcp) & 1) != 0) return false;
      const std::uint16_t sum = UpdateChecksum(Load16(&frame[tcp + 16]), mss, limit);
      Store16(&frame[opt + 2], limit);
      Store16(&frame[tcp + 16], sum);
      return true;
    }
    opt += len;
  }
  return false;
}

}  // namespace vdemesh::core
