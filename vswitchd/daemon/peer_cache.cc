#include "vswitchd/daemon/peer_cache.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "transport/constants.h"

namespace vdemesh::daemon {

namespace {

// A numeric address only: the file never makes the daemon wait for DNS.
std::optional<transport::Endpoint> ParseNumeric(const std::string& text) {
  std::string err;
  const auto hp = transport::ParseHostPort(text, transport::kDefaultPort, &err);
  if (!hp || !transport::IsNumericHost(*hp)) return std::nullopt;
  const auto endpoints = transport::Resolve(*hp, &err);
  if (endpoints.size() != 1 || !endpoints[0].valid()) return std::nullopt;
  return endpoints[0];
}

}  // namespace

PeerAddresses LoadPeerCache(const std::string& path, std::size_t* skipped) {
  PeerAddresses out;
  *skipped = 0;
  std::ifstream in(path);
  std::string line;
  for (int lines = 0; std::getline(in, line) && lines < 4096; ++lines) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    std::string network, address, extra;
    if (!(words >> network >> address) || (words >> extra)) {
      ++*skipped;
      continue;
    }
    const auto e = ParseNumeric(address);
    auto& list = out[network];
    if (!e || list.size() >= kMaxCachedPeers) {
      ++*skipped;
      continue;
    }
    list.push_back(*e);
  }
  std::erase_if(out, [](const auto& kv) { return kv.second.empty(); });
  return out;
}

bool SavePeerCache(const std::string& path, const PeerAddresses& peers, std::string* err) {
  std::string text =
      "# vswitchd: addresses of the peers it had up, tried again after a restart. "
      "Rewritten by vswitchd.\n";
  for (const auto& [network, endpoints] : peers)
    for (const auto& e : endpoints) text += network + " " + e.ToString() + "\n";
  const std::string tmp = path + ".tmp";
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    *err = "cannot write " + tmp + ": " + std::strerror(errno);
    return false;
  }
  const bool written = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const bool closed = close(fd) == 0;
  if (!written || !closed || rename(tmp.c_str(), path.c_str()) != 0) {
    *err = "cannot write " + path + ": " + std::strerror(errno);
    unlink(tmp.c_str());
    return false;
  }
  return true;
}

}  // namespace vdemesh::daemon
