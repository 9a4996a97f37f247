// event_loop.h: the datapath's loop: epoll over the packet sockets, work posted by other
// threads, and periodic timers; one thread runs it.
//
// Why not asio here: asio re-arms a descriptor with an epoll_ctl() after every wake-up (a wait
// is never speculative) and passes each one through its scheduler and handler allocation: on the
// packet path, a system call and a longer code path per wake-up, which at low rates runs with
// cold caches. Here a readable fd calls its Readable directly.
//
// Thread affinity: Run(), Watch(), Unwatch(), YieldAfterTurn(), NoteTraffic() and SetBusyPoll()
// on the loop's thread (SetBusyPoll also before Run); Post() and Stop() from any thread.
// Level-triggered: a handler that stops early (a budget) is called again at the next turn,
// after the others.
#pragma once

#include <sys/epoll.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace vdemesh {

class EventLoop {
 public:
  class Readable {
   public:
    virtual void OnReadable() noexcept = 0;

   protected:
    ~Readable() = default;
  };

  EventLoop();  // throws std::system_error if the kernel refuses an epoll or eventfd
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Runs until Stop(), and then the work posted before it.
  void Run();
  void Stop();
  // Runs fn on the loop's thread (control plane: takes a lock and may allocate).
  template <typename Fn>
  void Post(Fn fn) {
    PostTask(std::make_unique<TaskOf<Fn>>(std::move(fn)));
  }

  // r->OnReadable() while `fd` is readable. Unwatch() before r or fd goes away; a pending
  // event for it in the current turn is then not delivered.
  void Watch(int fd, Readable* r);
  void Unwatch(int fd, Readable* r);

  // A handler stopped at its budget with work still waiting: once this turn is over the thread
  // gives up its CPU (sched_yield) before it looks for more. Without it, an input that never
  // runs dry (a guest sending as fast as it can) keeps the thread running for whole scheduler
  // slices while whoever consumes what it forwards (a receiving guest, a peer daemon on the
  // same small host) waits for a CPU, and the surplus is read, sealed and sent only to be
  // dropped further on. Once per turn at most, and only when saturated: one system call per
  // several hundred frames, and never at low load, where latency counts.
  void YieldAfterTurn() noexcept { yield_ = true; }
  // Turns that ended in a yield (loop thread; read by tests).
  std::uint64_t yields() const noexcept { return yields_; }

  // Busy polling. A handler that moved packets calls NoteTraffic(); for `window` after such a
  // turn the thread keeps looking for more (epoll_wait without a timeout) instead of sleeping,
  // and gives up its CPU (sched_yield) between looks that find nothing. Why: on a small VM a
  // sleeping thread takes 15-25 us to run again after a wake-up, and its code and data come
  // back cold; a ping's answer arrives a few hundred us after its request went out, so the
  // daemon that forwarded the request is still looking when it comes. The yields let the
  // guests and the peer daemon run meanwhile (polling without them held both CPUs and doubled
  // the ping). The cost is CPU only while there is traffic: at most `window` per burst, none
  // when idle. Zero (the default) turns it off.
  void SetBusyPoll(std::chrono::nanoseconds window) noexcept { busy_poll_ = window; }
  // Any thread, if set before Run() and not changed after.
  std::chrono::nanoseconds busy_poll() const noexcept { return busy_poll_; }
  void NoteTraffic() noexcept { traffic_ = true; }
  // Looks that found nothing while busy polling (loop thread; read by tests).
  std::uint64_t empty_polls() const noexcept { return empty_polls_; }

 private:
  struct Task {
    virtual ~Task() = default;
    virtual void Run() = 0;
  };
  template <typename Fn>
  struct TaskOf final : Task {
    explicit TaskOf(Fn f) : fn(std::move(f)) {}
    void Run() override { fn(); }
    Fn fn;
  };
  void PostTask(std::unique_ptr<Task> task);
  bool RunPosted();  // false once stopped

  int epoll_fd_ = -1;
  int wake_fd_ = -1;  // an eventfd: something was posted
  std::mutex mutex_;
  std::vector<std::unique_ptr<Task>> posted_;
  bool stopping_ = false;
  std::array<epoll_event, 64> events_{};
  int turn_next_ = 0, turn_end_ = 0;  // events of the current turn not yet delivered
  bool yield_ = false;
  std::uint64_t yields_ = 0;
  std::chrono::nanoseconds busy_poll_{0};
  bool traffic_ = false;
  std::chrono::steady_clock::time_point poll_until_{};  // epoch: not polling, sleep
  std::uint64_t empty_polls_ = 0;
};

// Calls fn every `period` on `loop` (a timerfd), from the first period on; stops when destroyed.
// Loop thread only.
class PeriodicTimer final : public EventLoop::Readable {
 public:
  PeriodicTimer(EventLoop& loop, std::chrono::nanoseconds period, std::function<void()> fn);
  ~PeriodicTimer();
  PeriodicTimer(const PeriodicTimer&) = delete;
  PeriodicTimer& operator=(const PeriodicTimer&) = delete;
  void OnReadable() noexcept override;

 private:
  EventLoop& loop_;
  int fd_;
  std::function<void()> fn_;
};

}  // namespace vdemesh
