#include "vswitchd/daemon/overlay.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <future>
#include <stdexcept>

#include "common/log_budget.h"
#include "crypto/keys.h"
#include "vswitchd/daemon/logging.h"

namespace vdemesh::daemon {

namespace {

void MakeParentDirectory(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos || slash == 0) return;
  const std::string dir = path.substr(0, slash);
  MakeParentDirectory(dir);
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    throw std::runtime_error("cannot create directory " + dir + ": " + std::strerror(errno));
}

}  // namespace

crypto::PrivateKey LoadOrCreateHostKey(const std::string& path) {
  std::string err;
  if (access(path.c_str(), F_OK) != 0) {
    MakeParentDirectory(path);
    const crypto::KeyPair pair = crypto::GenerateKeyPair();
    if (!crypto::WriteKeyFile(path, pair.private_key.span(), &err))
      throw std::runtime_error("--host-key: " + err);
    // Logs name hosts by fingerprint only; `vswitchctl status` shows the whole public key.
    Logger("daemon")->info("created host key {} (host {})", path,
                           crypto::Fingerprint(pair.public_key));
  }
  auto key = crypto::ReadKeyFile(path, &err);
  if (!key) throw std::runtime_error("--host-key: " + err);
  return crypto::PrivateKey(key->span());
}

Overlay::Overlay(const DaemonOptions& options, boost::asio::io_context& control)
    : options_(options), cache_path_(options.host_key + ".peers"), cache_timer_(control) {
  std::string err;
  const auto listen = transport::ParseHostPort(options.listen, transport::kDefaultPort, &err);
  if (!listen) throw std::runtime_error("--listen: " + err);
  listen_ = *listen;
  peers_ = std::make_unique<transport::PeerManager>(control, LoadOrCreateHostKey(options.host_key));
  names_ = std::make_unique<PeerNames>(control, *peers_);
  std::size_t skipped = 0;
  remembered_ = LoadPeerCache(cache_path_, &skipped);
  saved_ = remembered_;
  if (skipped > 0)
    Logger("tunnel")->warn("{}: skipped {} lines that are not \"NETWORK ADDRESS\"", cache_path_,
                           skipped);
}

void Overlay::Start() {
  peers_->Start();
  names_->Start();
  ScheduleCacheSave();
}

void Overlay::Stop() {
  if (stopped_) return;
  stopped_ = true;
  *alive_ = false;
  cache_timer_.cancel();
  SaveCacheIfChanged();
  names_.reset();
  peers_->Stop();
}

// Every second, the addresses of the peers that are up now, if they changed; never an
// empty list over a full one (right after a restart, or while the network is down, the old
// addresses are the better guess).
void Overlay::SaveCacheIfChanged() {
  const auto up = peers_->UpEndpoints();
  PeerAddresses now;
  for (std::size_t n = 0; n < up.size(); ++n) {
    auto list = up[n];
    std::sort(list.begin(), list.end(),
              [](const auto& a, const auto& b) { return a.ToString() < b.ToString(); });
    if (list.size() > kMaxCachedPeers) list.resize(kMaxCachedPeers);
    if (!list.empty()) now[network_names_[n]] = std::move(list);
  }
  if (now.empty() || now == saved_) return;
  std::string err;
  if (SavePeerCache(cache_path_, now, &err)) {
    saved_ = std::move(now);
  } else {
    VDEMESH_LOG_LIMITED(Logger("tunnel"), spdlog::level::warn, "peer cache: {}", err);
  }
}

void Overlay::ScheduleCacheSave() {
  cache_timer_.expires_after(std::chrono::seconds(1));
  cache_timer_.async_wait(
      [this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
        const auto live = alive.lock();
        if (ec || !live || !*live) return;
        SaveCacheIfChanged();
        ScheduleCacheSave();
      });
}

Overlay::~Overlay() {
  Stop();
  for (auto& lane : lanes_)
    if (lane->tunnel) lane->shard->RunAndWait([&lane] { lane->tunnel.reset(); });
  peers_.reset();
}

transport::Tunnel* Overlay::TunnelOn(datapath::Shard& shard) {
  for (auto& lane : lanes_)
    if (lane->shard == &shard) return lane->tunnel.get();
  transport::HostPort at = listen_;
  const std::string thread_note =
      lanes_.empty() ? "" : " (datapath thread " + std::to_string(lanes_.size()) + ")";
  if (at.port != 0) {  // port 0: every tunnel gets an ephemeral port of its own
    const std::size_t port = listen_.port + lanes_.size();
    if (port > 65535)
      throw std::runtime_error("--listen " + options_.listen + thread_note + ": port " +
                               std::to_string(port) + " is out of range");
    at.port = static_cast<std::uint16_t>(port);
  }
  auto sockets = transport::UdpSockets::Open(at);
  if (!sockets)
    throw std::runtime_error("--listen " + options_.listen + thread_note + ": port " +
                             std::to_string(at.port) + ": " + sockets.error().message());
  auto lane = std::make_unique<Lane>(Lane{&shard, std::move(*sockets), nullptr});
  shard.RunAndWait([&] {
    lane->tunnel = std::make_unique<transport::Tunnel>(shard.loop(), lane->sockets);
    lane->tunnel->set_underlay_mtu(options_.underlay_mtu);
    lane->tunnel->Start(peers_.get());
  });
  std::string where;
  for (const auto& e : lane->sockets.LocalEndpoints()) where += " " + e.ToString();
  Logger("tunnel")->info("overlay listening on{}{}, host {}", where, thread_note,
                         crypto::Fingerprint(peers_->public_key()));
  lanes_.push_back(std::move(lane));
  return lanes_.back()->tunnel.get();
}

void Overlay::DestroyTunnelOn(const datapath::Shard& shard) {
  for (auto& lane : lanes_)
    if (lane->shard == &shard) lane->tunnel.reset();
}

std::vector<transport::Tunnel*> Overlay::tunnels() const {
  std::vector<transport::Tunnel*> out;
  for (const auto& lane : lanes_) out.push_back(lane->tunnel.get());
  return out;
}

void Overlay::AddNetwork(const NetworkOptions& o, transport::FrameSink* sink,
                         transport::Tunnel* tunnel) {
  std::string err;
  auto key = crypto::ReadKeyFile(o.network_key, &err);
  if (!key) throw std::runtime_error("network " + o.name + ": --network-key: " + err);
  transport::NetworkConfig config{o.name, std::move(*key), {}, {}, sink, tunnel};
  for (const auto& text : o.allowed_peers) config.allowed.push_back(*crypto::DecodePublicKey(text));
  const int network = peers_->AddNetwork(std::move(config));
  network_names_.push_back(o.name);
  if (auto it = remembered_.find(o.name); it != remembered_.end())
    for (const auto& e : it->second)
      if (tunnel->sockets().FdFor(e.family()) >= 0) peers_->AddRememberedAddress(network, e);
  // A malformed --peer stops the daemon; a name that does not resolve yet does not (PeerNames).
  for (const auto& text : o.peers) {
    auto hp = transport::ParseHostPort(text, transport::kDefaultPort, &err);
    if (!hp) throw std::runtime_error("network " + o.name + ": --peer " + text + ": " + err);
    names_->Add(network, o.name, text, std::move(*hp),
                [tunnel](int family) { return tunnel->sockets().FdFor(family) >= 0; });
  }
}

}  // namespace vdemesh::daemon
