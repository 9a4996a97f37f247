#include "vswitchd/core/mss_clamp.h"

#include "vswitchd/core/inet.h"

namespace vdemesh::core {

namespace {

constexpr std::uint8_t kSyn = 0x02;
constexpr std::uint8_t kOptEnd = 0;
constexpr std::uint8_t kOptNop = 1;
constexpr std::uint8_t kOptMss = 2;

// RFC 1624, eqn. 3: HC' = ~(~HC + ~m + m'), in one's complement arithmetic.
std::uint16_t UpdateChecksum(std::uint16_t sum, std::uint16_t old_word, std::uint16_t new_word) {
  return FoldChecksum(std::uint32_t{static_cast<std::uint16_t>(~sum)} +
                      static_cast<std::uint16_t>(~old_word) + new_word);
}

}  // namespace

bool ClampTcpMss(std::span<std::uint8_t> frame, std::size_t max_frame) noexcept {
  TcpFrame l;
  // SECURITY: ParseTcpFrame checked the TCP header lies within the frame; options are checked
  // one by one below.
  if (!ParseTcpFrame(frame, &l) || (frame[l.tcp + 13] & kSyn) == 0) return false;
  const std::size_t tcp = l.tcp;
  const std::size_t header_len = l.payload - l.tcp;
  const std::uint16_t limit = MssForFrame(max_frame, l.v6);
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
