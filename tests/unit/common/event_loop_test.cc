#include "common/event_loop.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <thread>
#include <vector>

namespace vdemesh {
namespace {

using namespace std::chrono_literals;

// Runs a loop on a thread of its own for one test; stops and joins at the end.
class LoopThread {
 public:
  LoopThread() : thread_([this] { loop_.Run(); }) {}
  ~LoopThread() {
    loop_.Stop();
    thread_.join();
  }
  EventLoop& loop() { return loop_; }
  std::thread::id id() const { return thread_.get_id(); }
  // Runs fn on the loop and waits (bounded) for it.
  template <typename Fn>
  void RunOn(Fn fn) {
    std::promise<void> done;
    loop_.Post([&] {
      fn();
      done.set_value();
    });
    ASSERT_EQ(done.get_future().wait_for(5s), std::future_status::ready);
  }

 private:
  EventLoop loop_;
  std::thread thread_;
};

struct Pipe {
  Pipe() { EXPECT_EQ(pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0); }
  ~Pipe() {
    close(fds[0]);
    close(fds[1]);
  }
  int fds[2];
};

TEST(EventLoop, PostedWorkRunsOnTheLoopThreadInEachPostersOrder) {
  std::vector<int> seen_a, seen_b;
  std::atomic<int> off_thread{0};
  {
    LoopThread t;
    auto poster = [&](std::vector<int>* seen) {
      for (int i = 0; i < 2000; ++i)
        t.loop().Post([&, seen, i] {
          if (std::this_thread::get_id() != t.id()) ++off_thread;
          seen->push_back(i);
        });
    };
    std::thread a(poster, &seen_a), b(poster, &seen_b);
    a.join();
    b.join();
  }  // Stop(): what was posted before it still runs
  EXPECT_EQ(off_thread.load(), 0);
  ASSERT_EQ(seen_a.size(), 2000u);
  ASSERT_EQ(seen_b.size(), 2000u);
  for (int i = 0; i < 2000; ++i) {
    EXPECT_EQ(seen_a[i], i);
    EXPECT_EQ(seen_b[i], i);
  }
}

TEST(EventLoop, TakesMoveOnlyWork) {
  LoopThread t;
  auto owned = std::make_unique<int>(42);
  int got = 0;
  t.RunOn([&got, p = std::move(owned)] { got = *p; });
  EXPECT_EQ(got, 42);
}

// Reads one byte per call: level-triggered, so it is called again while bytes remain.
struct OneByteReader final : EventLoop::Readable {
  explicit OneByteReader(int f) : fd(f) {}
  void OnReadable() noexcept override {
    char c;
    if (read(fd, &c, 1) == 1) ++bytes;
  }
  int fd;
  std::atomic<int> bytes{0};
};

TEST(EventLoop, AWatchedFdIsServedAgainWhileItStaysReadable) {
  Pipe p;
  OneByteReader r(p.fds[0]);
  LoopThread t;
  t.RunOn([&] { t.loop().Watch(p.fds[0], &r); });
  ASSERT_EQ(write(p.fds[1], "abcde", 5), 5);
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (r.bytes < 5 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  EXPECT_EQ(r.bytes.load(), 5);
  t.RunOn([&] { t.loop().Unwatch(p.fds[0], &r); });
}

// Two readable fds whose handlers each unwatch the other: whichever the turn delivers first,
// the other's pending event of that turn must not be delivered (its object may be gone).
struct Unwatcher final : EventLoop::Readable {
  void OnReadable() noexcept override {
    ++calls;
    loop->Unwatch(other_fd, other);
    loop->Unwatch(fd, this);
  }
  EventLoop* loop = nullptr;
  int fd = -1, other_fd = -1;
  Unwatcher* other = nullptr;
  int calls = 0;
};

TEST(EventLoop, UnwatchDuringATurnDropsThatFdsPendingEvent) {
  for (int round = 0; round < 20; ++round) {
    Pipe p1, p2;
    ASSERT_EQ(write(p1.fds[1], "x", 1), 1);
    ASSERT_EQ(write(p2.fds[1], "x", 1), 1);
    Unwatcher a, b;
    LoopThread t;
    a.loop = b.loop = &t.loop();
    a.fd = b.other_fd = p1.fds[0];
    b.fd = a.other_fd = p2.fds[0];
    a.other = &b;
    b.other = &a;
    // Both watched in one posted task, so both are ready in the same epoll_wait.
    t.RunOn([&] {
      t.loop().Watch(p1.fds[0], &a);
      t.loop().Watch(p2.fds[0], &b);
    });
    // Posted work may run before the pipes' events in a turn: wait for the first handler.
    int total = 0;
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (total == 0 && std::chrono::steady_clock::now() < deadline)
      t.RunOn([&] { total = a.calls + b.calls; });
    t.RunOn([&] { total = a.calls + b.calls; });  // and one turn more
    EXPECT_EQ(total, 1) << "round " << round;
  }
}

// A handler that stays readable (a pipe it never drains) and asks for a yield, twice, in each of
// its first `asking` calls, as a budgeted drain does when its input outruns it.
struct BudgetedReader final : EventLoop::Readable {
  void OnReadable() noexcept override {
    if (++calls <= asking) {
      loop->YieldAfterTurn();
      loop->YieldAfterTurn();
    }
    if (calls == stop_after) loop->Unwatch(fd, this);
  }
  EventLoop* loop = nullptr;
  int fd = -1, asking = 0, stop_after = 0;
  std::atomic<int> calls{0};
};

TEST(EventLoop, ATurnInWhichAHandlerHitItsBudgetEndsInOneYieldAndOthersInNone) {
  Pipe p;
  ASSERT_EQ(write(p.fds[1], "x", 1), 1);
  BudgetedReader r;
  LoopThread t;
  r.loop = &t.loop();
  r.fd = p.fds[0];
  r.asking = 5;
  r.stop_after = 12;
  t.RunOn([&] { t.loop().Watch(p.fds[0], &r); });
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (r.calls < r.stop_after && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  ASSERT_EQ(r.calls.load(), r.stop_after);
  std::uint64_t yields = 0;
  t.RunOn([&] { yields = t.loop().yields(); });
  // One fd is one event per turn: five turns asked (twice each), seven did not.
  EXPECT_EQ(yields, 5u);
}

// Reads one byte a call and says it moved traffic, as the datapath's drains do.
struct TrafficReader final : EventLoop::Readable {
  void OnReadable() noexcept override {
    char c;
    if (read(fd, &c, 1) == 1) loop->NoteTraffic();
  }
  EventLoop* loop = nullptr;
  int fd = -1;
};

// The loop's count of empty looks once it has stopped changing (the thread sleeps), or -1.
long SettledEmptyPolls(LoopThread& t) {
  long before = -1;
  for (int i = 0; i < 100; ++i) {  // at most 100 x 50 ms
    long now = 0;
    t.RunOn([&] { now = static_cast<long>(t.loop().empty_polls()); });
    if (now == before) return now;
    before = now;
    std::this_thread::sleep_for(50ms);
  }
  return -1;
}

// A loop on its own thread that watches a pipe with a TrafficReader and busy-polls for `window`.
struct TrafficLoop {
  explicit TrafficLoop(std::chrono::nanoseconds window) {
    r.loop = &t.loop();
    r.fd = p.fds[0];
    t.RunOn([&] {
      t.loop().SetBusyPoll(window);
      t.loop().Watch(p.fds[0], &r);
    });
  }
  ~TrafficLoop() {
    t.RunOn([&] { t.loop().Unwatch(p.fds[0], &r); });
  }
  Pipe p;
  TrafficReader r;
  LoopThread t;
};

TEST(EventLoop, AfterATurnWithTrafficItPollsForItsWindowThenSleeps) {
  TrafficLoop l(20ms);
  EXPECT_EQ(SettledEmptyPolls(l.t), 0) << "posted work is not traffic";
  ASSERT_EQ(write(l.p.fds[1], "x", 1), 1);
  const long after_one = SettledEmptyPolls(l.t);
  EXPECT_GT(after_one, 0) << "the turn that read the byte was not followed by polling";
  // Settled: the window closed and the thread sleeps; a while later nothing has changed.
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(SettledEmptyPolls(l.t), after_one);
}

TEST(EventLoop, WithoutABusyPollWindowTrafficIsNotFollowedByPolling) {
  TrafficLoop l(0ms);
  ASSERT_EQ(write(l.p.fds[1], "xyz", 3), 3);
  EXPECT_EQ(SettledEmptyPolls(l.t), 0);
}

TEST(PeriodicTimer, FiresEveryPeriodUntilDestroyed) {
  LoopThread t;
  std::atomic<int> ticks{0};
  std::unique_ptr<PeriodicTimer> timer;
  t.RunOn([&] { timer = std::make_unique<PeriodicTimer>(t.loop(), 5ms, [&] { ++ticks; }); });
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (ticks < 3 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  EXPECT_GE(ticks.load(), 3);
  t.RunOn([&] { timer.reset(); });
  const int after = ticks;
  std::this_thread::sleep_for(30ms);
  EXPECT_EQ(ticks.load(), after) << "a destroyed timer fired";
}

}  // namespace
}  // namespace vdemesh
