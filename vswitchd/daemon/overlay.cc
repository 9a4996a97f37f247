#include "vswitchd/daemon/overlay.h"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <future>
#include <stdexcept>

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

Overlay::Overlay(const DaemonOptions& options, datapath::Shard& shard,
                 boost::asio::io_context& control)
    : shard_(shard) {
  const crypto::PrivateKey host_key = LoadOrCreateHostKey(options.host_key);
  std::string err;
  const auto listen = transport::ParseHostPort(options.listen, transport::kDefaultPort, &err);
  if (!listen) throw std::runtime_error("--listen: " + err);
  auto sockets = transport::UdpSockets::Open(*listen);
  if (!sockets)
    throw std::runtime_error("--listen " + options.listen + ": " + sockets.error().message());
  sockets_ = std::move(*sockets);
  shard_.RunAndWait([&] {
    tunnel_ = std::make_unique<transport::Tunnel>(shard_.loop(), sockets_);
    tunnel_->set_underlay_mtu(options.underlay_mtu);
  });
  peers_ = std::make_unique<transport::PeerManager>(control, shard_.loop(), tunnel_.get(), sockets_,
                                                    host_key);
  shard_.loop().Post([t = tunnel_.get(), pm = peers_.get()] { t->Start(pm); });
  std::string where;
  for (const auto& e : sockets_.LocalEndpoints()) where += " " + e.ToString();
  Logger("tunnel")->info("overlay listening on{}, host {}", where,
                         crypto::Fingerprint(peers_->public_key()));
}

Overlay::~Overlay() {
  peers_->Stop();
  if (tunnel_) shard_.RunAndWait([this] { tunnel_.reset(); });
  peers_.reset();
}

void Overlay::AddNetwork(const NetworkOptions& o, transport::FrameSink* sink) {
  std::string err;
  auto key = crypto::ReadKeyFile(o.network_key, &err);
  if (!key) throw std::runtime_error("network " + o.name + ": --network-key: " + err);
  transport::NetworkConfig config{o.name, std::move(*key), {}, {}, sink};
  for (const auto& text : o.allowed_peers) config.allowed.push_back(*crypto::DecodePublicKey(text));
  for (const auto& text : o.peers) {
    const auto hp = transport::ParseHostPort(text, transport::kDefaultPort, &err);
    const auto endpoints = hp ? transport::Resolve(*hp, &err) : std::vector<transport::Endpoint>{};
    if (endpoints.empty())
      throw std::runtime_error("network " + o.name + ": --peer " + text + ": " + err);
    // The first address the resolver offers that one of our sockets can reach.
    for (const auto& e : endpoints) {
      if (sockets_.FdFor(e.family()) >= 0) {
        config.bootstrap.push_back(e);
        break;
      }
    }
  }
  peers_->AddNetwork(std::move(config));
}

}  // namespace vdemesh::daemon
