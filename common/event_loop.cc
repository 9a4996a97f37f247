#include "common/event_loop.h"

#include <sched.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

#include "common/check.h"

namespace vdemesh {

namespace {

int CheckFd(int fd, const char* what) {
  if (fd < 0) throw std::system_error(errno, std::system_category(), what);
  return fd;
}

}  // namespace

EventLoop::EventLoop()
    : epoll_fd_(CheckFd(epoll_create1(EPOLL_CLOEXEC), "epoll_create1")),
      wake_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (wake_fd_ < 0) {
    close(epoll_fd_);
    CheckFd(wake_fd_, "eventfd");
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;  // the wake-up fd is the one without a Readable
  VDEMESH_CHECK(epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) == 0);
}

EventLoop::~EventLoop() {
  close(wake_fd_);
  close(epoll_fd_);
}

void EventLoop::Watch(int fd, Readable* r) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = r;
  VDEMESH_CHECK(epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) == 0);
}

void EventLoop::Unwatch(int fd, Readable* r) {
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  for (int i = turn_next_; i < turn_end_; ++i)
    if (events_[i].data.ptr == r) events_[i].events = 0;  // not delivered
}

void EventLoop::PostTask(std::unique_ptr<Task> task) {
  {
    std::lock_guard lock(mutex_);
    posted_.push_back(std::move(task));
  }
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = write(wake_fd_, &one, sizeof one);  // EAGAIN: already set
}

void EventLoop::Stop() {
  Post([this] { stopping_ = true; });
}

bool EventLoop::RunPosted() {
  std::uint64_t count;
  [[maybe_unused]] const ssize_t n = read(wake_fd_, &count, sizeof count);
  std::vector<std::unique_ptr<Task>> tasks;
  {
    std::lock_guard lock(mutex_);
    tasks.swap(posted_);
  }
  for (auto& t : tasks) t->Run();
  return !stopping_;
}

void EventLoop::Run() {
  using Clock = std::chrono::steady_clock;
  for (;;) {
    const bool polling = poll_until_ != Clock::time_point{};
    const int n =
        epoll_wait(epoll_fd_, events_.data(), static_cast<int>(events_.size()), polling ? 0 : -1);
    if (n < 0) {
      VDEMESH_CHECK(errno == EINTR);
      continue;
    }
    if (n == 0) {  // only while polling: nothing yet
      ++empty_polls_;
      if (Clock::now() >= poll_until_) {
        poll_until_ = {};
      } else {
        sched_yield();
      }
      continue;
    }
    bool go_on = true;
    turn_end_ = n;
    for (turn_next_ = 0; turn_next_ < turn_end_;) {
      const epoll_event& ev = events_[turn_next_++];
      if (ev.events == 0) continue;  // unwatched during this turn
      if (ev.data.ptr == nullptr) {
        go_on = RunPosted();
      } else {
        static_cast<Readable*>(ev.data.ptr)->OnReadable();
      }
    }
    turn_next_ = turn_end_ = 0;
    if (!go_on) return;
    if (traffic_) {
      traffic_ = false;
      if (busy_poll_.count() > 0) poll_until_ = Clock::now() + busy_poll_;
    }
    if (yield_) {
      yield_ = false;
      ++yields_;
      sched_yield();
    }
  }
}

PeriodicTimer::PeriodicTimer(EventLoop& loop, std::chrono::nanoseconds period,
                             std::function<void()> fn)
    : loop_(loop),
      fd_(CheckFd(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC), "timerfd_create")),
      fn_(std::move(fn)) {
  itimerspec spec{};
  spec.it_interval.tv_sec = static_cast<time_t>(period.count() / 1'000'000'000);
  spec.it_interval.tv_nsec = static_cast<long>(period.count() % 1'000'000'000);
  spec.it_value = spec.it_interval;
  VDEMESH_CHECK(timerfd_settime(fd_, 0, &spec, nullptr) == 0);
  loop_.Watch(fd_, this);
}

PeriodicTimer::~PeriodicTimer() {
  loop_.Unwatch(fd_, this);
  close(fd_);
}

void PeriodicTimer::OnReadable() noexcept {
  std::uint64_t expirations;
  if (read(fd_, &expirations, sizeof expirations) > 0) fn_();
}

}  // namespace vdemesh
