#include "vswitchd/daemon/daemon.h"

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "vswitchd/control/control_server.h"
#include "vswitchd/control/control_service.h"
#include "vswitchd/daemon/logging.h"
#include "vswitchd/daemon/overlay.h"
#include "vswitchd/datapath/network_datapath.h"
#include "vswitchd/datapath/shard.h"
#include "vswitchd/vde/tap_port.h"
#include "vswitchd/vde/vde_server.h"

namespace vdemesh::daemon {

namespace asio = boost::asio;

namespace {

// Hands VDE endpoints from the control thread to the datapath shard.
class ShardSink final : public vde::EndpointSink {
 public:
  ShardSink(EventLoop& shard, datapath::NetworkDatapath* dp) : shard_(shard), dp_(dp) {}
  void OnEndpointOpened(const vde::EndpointInfo& info, int fd) override {
    shard_.Post([dp = dp_, port = info.port, id = info.id, vlan = info.vlan, fd] {
      dp->AddEndpoint(port, id, fd, vlan);
    });
  }
  void OnEndpointClosed(const vde::EndpointInfo& info) override {
    shard_.Post([dp = dp_, port = info.port, id = info.id] { dp->RemoveEndpoint(port, id); });
  }

 private:
  EventLoop& shard_;
  datapath::NetworkDatapath* dp_;
};

struct Network {
  const NetworkOptions* options = nullptr;
  datapath::Shard* shard = nullptr;
  std::uint32_t thread = 0;                             // index of `shard`
  std::unique_ptr<datapath::NetworkDatapath> datapath;  // created and destroyed on the shard
  std::unique_ptr<ShardSink> sink;
  std::unique_ptr<vde::VdeServer> vde;
  std::optional<std::uint32_t> tap_port;
};

// With --daemon the parent waits on this pipe until the child serves its sockets, so that
// `vswitchd --daemon && vde_plug ...` works and a start-up error still exits non-zero.
class Daemonizer {
 public:
  void Fork() {
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    const pid_t pid = fork();
    if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    if (pid > 0) {
      close(fds[1]);
      char ok = 0;
      const bool ready = read(fds[0], &ok, 1) == 1 && ok == 1;
      _exit(ready ? 0 : 1);
    }
    close(fds[0]);
    fd_ = fds[1];
    setsid();
    if (chdir("/") != 0) {
    }
    const int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
      dup2(null, STDIN_FILENO);
      dup2(null, STDOUT_FILENO);
      dup2(null, STDERR_FILENO);
      close(null);
    }
  }
  void Ready() {
    if (fd_ < 0) return;
    const char ok = 1;
    if (write(fd_, &ok, 1) != 1) {
    }
    close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

std::optional<gid_t> GroupId(const std::string& name) {
  if (name.empty()) return std::nullopt;
  const group* g = getgrnam(name.c_str());
  if (g == nullptr) throw std::invalid_argument("--group: no such group '" + name + "'");
  return g->gr_gid;
}

class Daemon {
 public:
  explicit Daemon(const DaemonOptions& options) : options_(options), signals_(control_) {}
  ~Daemon() { Shutdown(); }

  void Start();
  void Run() { control_.run(); }

 private:
  void StartShards();
  void StartNetwork(const NetworkOptions& o, std::size_t thread);
  void Shutdown();

  const DaemonOptions& options_;
  asio::io_context control_{1};
  std::vector<std::unique_ptr<datapath::Shard>> shards_;
  std::unique_ptr<Overlay> overlay_;
  std::vector<std::unique_ptr<Network>> networks_;
  std::unique_ptr<control::ControlService> service_;
  std::unique_ptr<control::ControlServer> control_server_;
  asio::signal_set signals_;
  bool pidfile_written_ = false;
};

// One datapath thread per CPU we may run on (or --threads), but no more than there are networks:
// a network lives on one thread, so its frames keep their order without locks.
void Daemon::StartShards() {
  std::size_t threads = options_.threads;
  if (threads == 0) {
    cpu_set_t cpus;
    threads = sched_getaffinity(0, sizeof cpus, &cpus) == 0 ? CPU_COUNT(&cpus) : 1;
  }
  threads = std::clamp<std::size_t>(threads, 1, options_.networks.size());
  for (std::size_t i = 0; i < threads; ++i) {
    shards_.push_back(std::make_unique<datapath::Shard>());
    shards_.back()->loop().SetBusyPoll(std::chrono::microseconds(options_.busy_poll_us));
    shards_.back()->Start(("vdemesh-dp" + std::to_string(i)).c_str());
  }
}

void Daemon::StartNetwork(const NetworkOptions& o, std::size_t thread) {
  datapath::Shard& shard = *shards_[thread];
  auto net = std::make_unique<Network>();
  net->options = &o;
  net->shard = &shard;
  net->thread = static_cast<std::uint32_t>(thread);
  core::SwitchCore::Options core_options;
  core_options.numports = o.numports + 1;  // ports 1..numports, plus port 0 on explicit request
  core_options.max_frame = o.max_frame;
  core_options.fdb = {o.fdb_size, std::chrono::seconds(o.fdb_aging_seconds)};
  transport::Tunnel* tunnel = o.network_key.empty() ? nullptr : overlay_->TunnelOn(shard);
  shard.RunAndWait([&] {
    net->datapath = std::make_unique<datapath::NetworkDatapath>(shard.loop(), core_options,
                                                                shard.batch(), tunnel);
  });
  net->sink = std::make_unique<ShardSink>(shard.loop(), net->datapath.get());
  networks_.push_back(std::move(net));  // from here Shutdown() cleans it up
  Network& n = *networks_.back();

  vde::VdeServer::Options vo{o.dir, o.mode, GroupId(o.group), o.numports};
  auto vde = vde::VdeServer::Create(control_, vo, n.sink.get());
  if (!vde) {
    if (vde.error() == asio::error::address_in_use)
      throw std::runtime_error("switch directory " + o.dir + " is served by a running switch");
    throw std::runtime_error("switch directory " + o.dir + ": " + vde.error().message());
  }
  n.vde = std::move(*vde);
  if (!o.tap.empty()) {
    auto tap = vde::OpenTap(o.tap);
    if (!tap) throw std::runtime_error("--tap " + o.tap + ": " + tap.error().message());
    n.tap_port = n.vde->ReservePort();
    if (!n.tap_port) {
      close(tap->fd);
      throw std::runtime_error("--tap " + o.tap + ": no free port");
    }
    Logger("daemon")->debug("tap {}: UDP offload {}", o.tap, tap->udp_offload ? "on" : "off");
    if (!datapath::TapReader::IoUringAvailable())
      Logger("daemon")->info("tap {}: io_uring is not available, one read() per frame", o.tap);
    shard.loop().Post([dp = n.datapath.get(), port = *n.tap_port, t = *tap] {
      dp->AddTap(port, t.fd, t.udp_offload);
    });
  }
  if (tunnel != nullptr) overlay_->AddNetwork(o, n.datapath.get(), tunnel);
  Logger("daemon")->info("network {}: switch {} ({} ports{}{}{}), datapath thread {}", o.name,
                         o.dir, o.numports, o.tap.empty() ? "" : ", tap ", o.tap,
                         tunnel != nullptr ? ", encrypted overlay" : ", this host only", thread);
}

void Daemon::Start() {
  StartShards();
  const bool any_key = std::any_of(options_.networks.begin(), options_.networks.end(),
                                   [](const auto& o) { return !o.network_key.empty(); });
  if (any_key) overlay_ = std::make_unique<Overlay>(options_, control_);
  for (std::size_t i = 0; i < options_.networks.size(); ++i)
    StartNetwork(options_.networks[i], i % shards_.size());
  if (overlay_) overlay_->Start();

  std::vector<control::NetworkHandle> handles;
  for (auto& n : networks_)
    handles.push_back(
        {n->options, n->vde.get(), n->datapath.get(), &n->shard->loop(), n->thread, n->tap_port});
  control::OverlayHandle overlay_handle{
      overlay_ ? &overlay_->peers() : nullptr,
      overlay_ ? overlay_->tunnels() : std::vector<transport::Tunnel*>{}};
  service_ = std::make_unique<control::ControlService>(std::move(handles), overlay_handle,
                                                       std::chrono::steady_clock::now());
  auto server = control::ControlServer::Create(
      control_, options_.control,
      [this](const control::Request& r) { return service_->Handle(r); });
  if (!server) {
    if (server.error() == asio::error::address_in_use)
      throw std::runtime_error("control socket " + options_.control +
                               " is in use by a running vswitchd (use --control PATH)");
    throw std::runtime_error("control socket " + options_.control + ": " +
                             server.error().message());
  }
  control_server_ = std::move(*server);

  if (!options_.pidfile.empty()) {
    std::ofstream(options_.pidfile) << getpid() << "\n";
    pidfile_written_ = true;
  }
  signals_.add(SIGINT);
  signals_.add(SIGTERM);
  signals_.async_wait([this](boost::system::error_code ec, int signo) {
    if (ec) return;
    Logger("daemon")->info("signal {} received, shutting down", signo);
    control_.stop();
  });
  Logger("daemon")->info("vswitchd {} ready, control socket {}", VDEMESH_VERSION, options_.control);
}

// Order matters: stop taking requests, unplug clients (removing their sockets), then on each
// shard destroy its tunnel and its datapaths in one handler: the tunnel hands frames to the
// datapaths and the datapaths send through it, so no packet may be handled in between (a frame
// arriving there once reached a freed datapath). Then stop the threads.
void Daemon::Shutdown() {
  control_server_.reset();
  for (auto& n : networks_) n->vde.reset();
  if (overlay_) overlay_->Stop();
  for (auto& shard : shards_) {
    shard->RunAndWait([this, s = shard.get()] {
      if (overlay_) overlay_->DestroyTunnelOn(*s);
      for (auto& n : networks_)
        if (n->shard == s) n->datapath.reset();
    });
  }
  overlay_.reset();
  for (auto& shard : shards_) shard->Stop();
  networks_.clear();
  if (pidfile_written_) unlink(options_.pidfile.c_str());
}

}  // namespace

int RunDaemon(const DaemonOptions& options) {
  SetupLogging(options.log_level, options.daemonize);
  std::signal(SIGPIPE, SIG_IGN);
  umask(022);
  Daemonizer daemonizer;
  if (options.daemonize) daemonizer.Fork();
  Daemon daemon(options);
  try {
    daemon.Start();
  } catch (const std::exception& e) {
    // A daemonized child's stderr is /dev/null: say it in the log as well.
    if (options.daemonize) Logger("daemon")->critical("{}", e.what());
    throw;
  }
  daemonizer.Ready();
  daemon.Run();
  Logger("daemon")->info("stopped");
  return 0;
}

}  // namespace vdemesh::daemon
