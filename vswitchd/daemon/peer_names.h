// peer_names.h: keeps the overlay's `--peer HOST[:PORT]` addresses resolved.
//
// A name that does not resolve (DNS not up yet at boot, a host not registered yet) does not
// stop the daemon: it is looked up again, 1 s doubling to 30 s, with a log line. A name whose
// peer is not up is looked up again on the same schedule, so a peer whose address changed
// (dynamic DNS, a new lease) is found at its new one; a name whose peer is up is left alone
// and checked every 30 s. Each address a name resolves to becomes a bootstrap peer
// (PeerManager::SetBootstrapAddress).
//
// Thread affinity: the control thread. Lookups run on asio's resolver thread and post their
// results back, so a slow DNS server never blocks the control plane.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "transport/endpoint.h"
#include "transport/peer_manager.h"

namespace vdemesh::daemon {

class PeerNames {
 public:
  // Whether the network's tunnel has a socket of this address family (AF_INET, AF_INET6).
  using Reachable = std::function<bool(int family)>;

  PeerNames(boost::asio::io_context& control, transport::PeerManager& peers);
  ~PeerNames();  // cancels the lookups and timers
  PeerNames(const PeerNames&) = delete;
  PeerNames& operator=(const PeerNames&) = delete;

  // `text` is the --peer as written (it names the peer in logs), `hp` its parsed form.
  void Add(int network, std::string network_name, std::string text, transport::HostPort hp,
           Reachable reachable);
  void Start();  // the first lookup of every name, at once

 private:
  struct Name {
    int network;
    std::string network_name;
    std::string text;
    transport::HostPort hp;
    Reachable reachable;
    std::optional<transport::Endpoint> endpoint;  // the address it last resolved to
    unsigned misses = 0;  // lookups since it last resolved to a peer that came up
    std::unique_ptr<boost::asio::steady_timer> timer;
  };

  void Lookup(Name& n);
  void OnLookup(Name& n, const boost::system::error_code& ec,
                const boost::asio::ip::udp::resolver::results_type& results);
  void Check(Name& n);  // the timer fired
  void Wait(Name& n, std::chrono::steady_clock::duration d);

  boost::asio::io_context& control_;
  transport::PeerManager& peers_;
  boost::asio::ip::udp::resolver resolver_;
  std::vector<std::unique_ptr<Name>> names_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace vdemesh::daemon
