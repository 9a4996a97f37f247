// The datapath gives up its CPU after a turn in which a client's queue outlasted the budget
// (EventLoop::YieldAfterTurn), and not after one that emptied it. The client is the real thing
// a VDE port reads: a connected unix datagram socket, filled before the port is watched so the
// first turn finds the whole queue.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <thread>

#include "common/event_loop.h"
#include "transport/batch.h"
#include "vswitchd/datapath/network_datapath.h"

namespace vdemesh::datapath {
namespace {

using namespace std::chrono_literals;

// Runs `fn` on the loop's thread and waits (bounded) for it.
template <typename Fn>
void RunOn(EventLoop& loop, Fn fn) {
  std::promise<void> done;
  loop.Post([&] {
    fn();
    done.set_value();
  });
  ASSERT_EQ(done.get_future().wait_for(10s), std::future_status::ready);
}

struct Result {
  std::uint64_t rx_frames = 0;
  std::uint64_t yields = 0;
};

// Queues `frames` broadcast frames on a client socket, then lets a datapath with that client as
// port 1 read them all.
Result ReadQueuedFrames(int frames) {
  int sv[2];
  EXPECT_EQ(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
  // The sender's buffer bounds what a socket pair holds; as root it may exceed wmem_max.
  const int room = 16 << 20;
  if (setsockopt(sv[1], SOL_SOCKET, SO_SNDBUFFORCE, &room, sizeof room) != 0)
    setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &room, sizeof room);
  std::array<std::uint8_t, 60> frame{};
  frame.fill(0xff);                              // to everyone
  for (int i = 6; i < 12; ++i) frame[i] = 0x02;  // from a local unicast MAC
  frame[12] = 0x88;                              // a local experimental EtherType
  frame[13] = 0xb5;
  for (int i = 0; i < frames; ++i)
    EXPECT_EQ(send(sv[1], frame.data(), frame.size(), MSG_DONTWAIT), ssize_t(frame.size()));

  Result r;
  EventLoop loop;
  std::thread thread([&] { loop.Run(); });
  transport::RxBatch batch;
  std::unique_ptr<NetworkDatapath> dp;
  RunOn(loop, [&] {
    dp = std::make_unique<NetworkDatapath>(loop, core::SwitchCore::Options{}, &batch, nullptr);
    dp->AddEndpoint(1, 1, sv[0]);  // takes the fd
  });
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (r.rx_frames < static_cast<std::uint64_t>(frames) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
    RunOn(loop, [&] {
      for (const auto& p : dp->TakeSnapshot(false).ports)
        if (p.number == 1) r.rx_frames = p.counters.rx_frames;
      r.yields = loop.yields();
    });
  }
  RunOn(loop, [&] { dp.reset(); });
  loop.Stop();
  thread.join();
  close(sv[1]);
  return r;
}

TEST(DatapathYield, AClientQueueLongerThanOneBudgetEndsItsFirstTurnInAYield) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (SO_SNDBUFFORCE, to queue more than a budget)";
  // 8 batches of 64 per turn: 1000 frames take two turns, the first stopped by its budget.
  const Result r = ReadQueuedFrames(1000);
  EXPECT_EQ(r.rx_frames, 1000u);
  EXPECT_EQ(r.yields, 1u);
}

TEST(DatapathYield, AClientQueueThatOneTurnEmptiesCausesNoYield) {
  const Result r = ReadQueuedFrames(100);
  EXPECT_EQ(r.rx_frames, 100u);
  EXPECT_EQ(r.yields, 0u);
}

}  // namespace
}  // namespace vdemesh::datapath
