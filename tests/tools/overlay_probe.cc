// overlay_probe.cc: a hostile UDP client for vswitchd's overlay port (integration/overlay_test.cc).
//
//   overlay_probe garbage   HOST PORT COUNT           random lengths 0..1500, random bytes
//   overlay_probe truncated HOST PORT                 every truncation of every message type
//   overlay_probe badtag    HOST PORT COUNT RECEIVER  data packets with a forged tag; RECEIVER
//                                                     is a u32, "random" (per packet), or
//                                                     pcap:FILE (a live index seen in FILE)
//   overlay_probe replay    HOST PORT PCAPFILE        resend once each UDP payload sent to
//                                                     HOST:PORT in a tcpdump -w capture
//   overlay_probe wrongpsk  HOST PORT COUNT           real Noise initiations made with a wrong
//                                                     network key and a fresh host key
//
// Every run is bounded by its arguments, sends from this process's own address, never reads a
// reply, and ends with one line the test parses:
//   sent N malformed M handshake H data D
// where the classes are those of transport::Classify(), i.e. what the daemon will see.
// Packets are paced (kGap) so that the daemon's socket buffer, not the daemon, never drops one.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "crypto/keys.h"
#include "crypto/noise.h"
#include "transport/wire.h"

namespace {

using namespace vdemesh;
using Bytes = std::vector<std::uint8_t>;
using transport::MessageType;

constexpr auto kGap = std::chrono::microseconds(300);
constexpr std::string_view kPrologue = "vdemesh/1";

std::uint32_t Random(std::uint32_t bound) { return randombytes_uniform(bound); }

Bytes RandomBytes(std::size_t n) {
  Bytes b(n);
  if (n > 0) randombytes_buf(b.data(), n);
  return b;
}

class Sender {
 public:
  Sender(const std::string& host, const std::string& port) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    addrinfo* res = nullptr;
    if (getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0 || res == nullptr)
      throw std::runtime_error("bad address " + host + " " + port);
    std::memcpy(&to_, res->ai_addr, res->ai_addrlen);
    to_len_ = res->ai_addrlen;
    fd_ = socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    freeaddrinfo(res);
    if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  }
  ~Sender() { close(fd_); }

  void Send(const Bytes& pkt) {
    const auto type = transport::Classify(pkt);
    if (!type)
      ++malformed_;
    else if (*type == MessageType::kData)
      ++data_;
    else
      ++handshake_;
    if (sendto(fd_, pkt.data(), pkt.size(), 0, reinterpret_cast<const sockaddr*>(&to_), to_len_) !=
        static_cast<ssize_t>(pkt.size()))
      throw std::runtime_error(std::string("sendto: ") + std::strerror(errno));
    ++sent_;
    std::this_thread::sleep_for(kGap);
  }
  void Report() const {
    std::printf("sent %llu malformed %llu handshake %llu data %llu\n",
                static_cast<unsigned long long>(sent_), static_cast<unsigned long long>(malformed_),
                static_cast<unsigned long long>(handshake_),
                static_cast<unsigned long long>(data_));
  }
  const sockaddr_storage& to() const { return to_; }

 private:
  int fd_ = -1;
  sockaddr_storage to_{};
  socklen_t to_len_ = 0;
  unsigned long long sent_ = 0, malformed_ = 0, handshake_ = 0, data_ = 0;
};

// A data packet: header, `body` random bytes of "ciphertext", a random tag.
Bytes ForgedData(std::uint32_t receiver, std::size_t body) {
  Bytes pkt = RandomBytes(transport::kDataHeaderBytes + body + transport::kTagBytes);
  // Plausible counters: ahead of a young session's window, far below the reject limit.
  transport::DataHeader{receiver, (std::uint64_t{1} << 24) + Random(1u << 30)}.Write(pkt.data());
  return pkt;
}

void Garbage(Sender& s, unsigned long count) {
  for (unsigned long i = 0; i < count; ++i) s.Send(RandomBytes(Random(1501)));
}

void Truncated(Sender& s) {
  const std::pair<MessageType, std::size_t> kinds[] = {
      {MessageType::kInitiation, transport::kInitiationBytes},
      {MessageType::kResponse, transport::kResponseBytes},
      {MessageType::kFinal, transport::kFinalBytes},
      {MessageType::kData, transport::kDataHeaderBytes + transport::kTagBytes}};
  for (const auto& [type, size] : kinds) {
    Bytes full = RandomBytes(size);
    full[0] = static_cast<std::uint8_t>(type);
    full[1] = full[2] = full[3] = 0;
    for (std::size_t n = 0; n < size; ++n) s.Send(Bytes(full.begin(), full.begin() + n));
  }
}

void BadTag(Sender& s, unsigned long count, std::optional<std::uint32_t> receiver) {
  for (unsigned long i = 0; i < count; ++i)
    s.Send(ForgedData(receiver.value_or(randombytes_random()),
                      transport::kInnerHeaderBytes + Random(1400)));
}

void WrongPsk(Sender& s, unsigned long count) {
  const crypto::KeyPair host = crypto::GenerateKeyPair();
  const crypto::NetworkKey psk = crypto::GenerateNetworkKey();
  const std::span<const std::uint8_t> prologue(
      reinterpret_cast<const std::uint8_t*>(kPrologue.data()), kPrologue.size());
  for (unsigned long i = 0; i < count; ++i) {
    auto noise = crypto::Handshake::Initiator(host.private_key, psk, prologue);
    const auto wall = std::chrono::system_clock::now().time_since_epoch();
    const transport::InitiationPayload payload{
        transport::InitiationPayload::kVersion, 1, randombytes_random() | 1,
        static_cast<std::uint64_t>(std::chrono::nanoseconds(wall).count())};
    Bytes msg;
    if (!noise.WriteMessage(payload.Encode(), &msg)) throw std::runtime_error("WriteMessage");
    Bytes pkt(transport::kInitiationHeaderBytes, 0);
    pkt[0] = static_cast<std::uint8_t>(MessageType::kInitiation);
    pkt.insert(pkt.end(), msg.begin(), msg.end());
    s.Send(pkt);
  }
}

// ---- replay: the UDP payloads of a pcap file (tcpdump -w) that went to the target ----

std::uint32_t Read32(const std::uint8_t* p, bool swap) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return swap ? __builtin_bswap32(v) : v;
}
std::uint16_t Be16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }

// The network-layer packet of one record: its offset and ethertype, by link type.
bool NetworkLayer(std::uint32_t link, const Bytes& f, std::size_t* off, std::uint16_t* proto) {
  switch (link) {
    case 1:  // Ethernet, possibly with one 802.1Q tag
      if (f.size() < 14) return false;
      *off = 14, *proto = Be16(&f[12]);
      if (*proto == 0x8100 && f.size() >= 18) *off = 18, *proto = Be16(&f[16]);
      return true;
    case 113:  // Linux cooked (SLL)
      if (f.size() < 16) return false;
      *off = 16, *proto = Be16(&f[14]);
      return true;
    case 276:  // Linux cooked v2 (SLL2)
      if (f.size() < 20) return false;
      *off = 20, *proto = Be16(&f[0]);
      return true;
    case 12:
    case 101:  // raw IP
      if (f.empty()) return false;
      *off = 0, *proto = (f[0] >> 4) == 6 ? 0x86dd : 0x0800;
      return true;
  }
  return false;
}

// The UDP payload of `f` if it is an unfragmented datagram to `to`.
bool UdpPayloadTo(const sockaddr_storage& to, std::uint32_t link, const Bytes& f, Bytes* out) {
  std::size_t off = 0;
  std::uint16_t proto = 0;
  if (!NetworkLayer(link, f, &off, &proto)) return false;
  const std::uint8_t* ip = f.data() + off;
  const std::size_t len = f.size() - off;
  std::size_t udp = 0;
  if (proto == 0x0800 && to.ss_family == AF_INET && len >= 20) {
    const auto& sin = reinterpret_cast<const sockaddr_in&>(to);
    const bool fragment = (Be16(ip + 6) & 0x3fff) != 0;
    if (ip[9] != IPPROTO_UDP || fragment || std::memcmp(ip + 16, &sin.sin_addr, 4) != 0 ||
        Be16(ip + 2) > len)
      return false;
    udp = (ip[0] & 0x0f) * 4u;
  } else if (proto == 0x86dd && to.ss_family == AF_INET6 && len >= 40) {
    const auto& sin6 = reinterpret_cast<const sockaddr_in6&>(to);
    if (ip[6] != IPPROTO_UDP || std::memcmp(ip + 24, &sin6.sin6_addr, 16) != 0) return false;
    udp = 40;
  } else {
    return false;
  }
  const std::uint16_t port = to.ss_family == AF_INET
                                 ? reinterpret_cast<const sockaddr_in&>(to).sin_port
                                 : reinterpret_cast<const sockaddr_in6&>(to).sin6_port;
  if (udp + 8 > len || Be16(ip + udp + 2) != ntohs(port)) return false;
  const std::size_t udp_len = Be16(ip + udp + 4);
  if (udp_len < 8 || udp + udp_len > len) return false;
  out->assign(ip + udp + 8, ip + udp + udp_len);
  return true;
}

// Calls fn(payload) for each UDP payload in the pcap file at `path` that went to `to`.
template <class Fn>
void ForEachPayloadTo(const sockaddr_storage& to, const std::string& path, Fn fn) {
  std::ifstream in(path, std::ios::binary);
  const Bytes file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (file.size() < 24) throw std::runtime_error("not a pcap file: " + path);
  const std::uint32_t magic = Read32(file.data(), false);
  const bool swap = magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1;
  if (!swap && magic != 0xa1b2c3d4 && magic != 0xa1b23c4d)
    throw std::runtime_error("not a pcap file (pcapng is not supported): " + path);
  const std::uint32_t link = Read32(file.data() + 20, swap) & 0xffff;
  Bytes payload;
  for (std::size_t pos = 24; pos + 16 <= file.size();) {
    const std::uint32_t caplen = Read32(file.data() + pos + 8, swap);
    if (pos + 16 + caplen > file.size()) break;  // the capture was cut short
    const Bytes frame(file.begin() + pos + 16, file.begin() + pos + 16 + caplen);
    pos += 16 + caplen;
    if (UdpPayloadTo(to, link, frame, &payload)) fn(payload);
  }
}

void Replay(Sender& s, const std::string& path) {
  ForEachPayloadTo(s.to(), path, [&](const Bytes& payload) { s.Send(payload); });
}

// RECEIVER of badtag: a number, "random", or "pcap:FILE" for the receiver index of the last
// data packet to the target in FILE (a live session of the target's).
std::optional<std::uint32_t> ParseReceiver(const Sender& s, const std::string& arg) {
  if (arg == "random") return std::nullopt;
  if (arg.rfind("pcap:", 0) != 0) return static_cast<std::uint32_t>(std::stoul(arg));
  std::optional<std::uint32_t> receiver;
  ForEachPayloadTo(s.to(), arg.substr(5), [&](const Bytes& p) {
    if (transport::Classify(p) == MessageType::kData)
      receiver = transport::DataHeader::Read(p.data()).receiver;
  });
  if (!receiver) throw std::runtime_error("no data packet to the target in " + arg);
  return receiver;
}

unsigned long Count(const char* arg) { return std::stoul(arg); }

}  // namespace

int main(int argc, char** argv) try {
  if (sodium_init() < 0) throw std::runtime_error("sodium_init failed");
  const std::string cmd = argc > 1 ? argv[1] : "";
  const auto need = [&](int n) {
    if (argc != n) throw std::runtime_error("wrong number of arguments for " + cmd);
  };
  if (argc < 4) throw std::runtime_error("usage: overlay_probe CMD HOST PORT ... (see source)");
  Sender s(argv[2], argv[3]);
  if (cmd == "garbage") {
    need(5);
    Garbage(s, Count(argv[4]));
  } else if (cmd == "truncated") {
    need(4);
    Truncated(s);
  } else if (cmd == "badtag") {
    need(6);
    BadTag(s, Count(argv[4]), ParseReceiver(s, argv[5]));
  } else if (cmd == "replay") {
    need(5);
    Replay(s, argv[4]);
  } else if (cmd == "wrongpsk") {
    need(5);
    WrongPsk(s, Count(argv[4]));
  } else {
    throw std::runtime_error("unknown command " + cmd);
  }
  s.Report();
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "overlay_probe: %s\n", e.what());
  return 1;
}
