#include "vswitchd/daemon/peer_names.h"

#include <algorithm>
#include <chrono>

#include "common/log_budget.h"
#include "vswitchd/daemon/logging.h"

namespace vdemesh::daemon {

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

constexpr auto kFirstRetry = 1s;
constexpr auto kMaxRetry = 30s;  // also how often a name whose peer is up is checked

std::chrono::steady_clock::duration RetryDelay(unsigned misses) {
  return std::min<std::chrono::steady_clock::duration>(kFirstRetry * (1u << std::min(misses, 5u)),
                                                       kMaxRetry);
}

}  // namespace

PeerNames::PeerNames(asio::io_context& control, transport::PeerManager& peers)
    : control_(control), peers_(peers), resolver_(control) {}

PeerNames::~PeerNames() {
  *alive_ = false;
  resolver_.cancel();
  for (auto& n : names_) n->timer->cancel();
}

void PeerNames::Add(int network, std::string network_name, std::string text, transport::HostPort hp,
                    Reachable reachable) {
  auto n = std::make_unique<Name>();
  n->network = network;
  n->network_name = std::move(network_name);
  n->text = std::move(text);
  n->hp = std::move(hp);
  n->reachable = std::move(reachable);
  n->timer = std::make_unique<asio::steady_timer>(control_);
  names_.push_back(std::move(n));
}

void PeerNames::Start() {
  for (auto& n : names_) Lookup(*n);
}

void PeerNames::Lookup(Name& n) {
  resolver_.async_resolve(n.hp.host, std::to_string(n.hp.port),
                          asio::ip::udp::resolver::numeric_service,
                          [this, &n, alive = std::weak_ptr<bool>(alive_)](
                              const boost::system::error_code& ec,
                              const asio::ip::udp::resolver::results_type& results) {
                            const auto live = alive.lock();
                            if (!live || !*live) return;  // `this` is gone
                            OnLookup(n, ec, results);
                          });
}

void PeerNames::OnLookup(Name& n, const boost::system::error_code& ec,
                         const asio::ip::udp::resolver::results_type& results) {
  // The address it has already, if the name still offers it (a round-robin name lists its
  // addresses in a new order each time, and must not move the peer at every lookup); else the
  // first one that one of our sockets can reach.
  std::optional<transport::Endpoint> found;
  for (const auto& r : results) {
    const auto e = transport::Endpoint::FromSockaddr(r.endpoint().data(), r.endpoint().size());
    if (!e.valid() || !n.reachable(e.family())) continue;
    if (n.endpoint && *n.endpoint == e) {
      found = e;
      break;
    }
    if (!found) found = e;
  }
  if (!found) {
    const std::string why = ec ? ec.message() : "no address of a family the overlay listens on";
    const auto level = n.misses == 0 ? spdlog::level::warn : spdlog::level::debug;
    VDEMESH_LOG_LIMITED(Logger("tunnel"), level,
                        "network {}: --peer {}: cannot resolve it ({}); trying again",
                        n.network_name, n.text, why);
  } else if (!n.endpoint || !(*n.endpoint == *found)) {
    n.endpoint = found;
    peers_.SetBootstrapAddress(n.network, n.text, *found);
    n.misses = 0;  // a new address: look again soon if it does not answer either
  }
  Wait(n, RetryDelay(n.misses++));
}

void PeerNames::Check(Name& n) {
  if (n.endpoint && peers_.UpAt(n.network, *n.endpoint)) {
    n.misses = 0;
    Wait(n, kMaxRetry);
    return;
  }
  Lookup(n);
}

void PeerNames::Wait(Name& n, std::chrono::steady_clock::duration d) {
  n.timer->expires_after(d);
  n.timer->async_wait(
      [this, &n, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
        const auto live = alive.lock();
        if (ec || !live || !*live) return;
        Check(n);
      });
}

}  // namespace vdemesh::daemon
