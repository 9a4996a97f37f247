// shard.h: one datapath thread with its own EventLoop and RxBatch.
//
// Everything a shard runs (NetworkDatapath objects, the Tunnel) is created, used and destroyed
// on its thread; other threads reach it only with loop().Post(). Start with one shard (STYLE.md).
#pragma once

#include <pthread.h>

#include <future>
#include <thread>

#include "common/event_loop.h"
#include "transport/batch.h"

namespace vdemesh::datapath {

class Shard {
 public:
  Shard() = default;
  ~Shard() { Stop(); }
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  void Start(const char* name) {
    thread_ = std::thread([this] { loop_.Run(); });
    pthread_setname_np(thread_.native_handle(), name);
  }
  // Lets queued work finish, then joins. Objects living on the shard must be destroyed by a
  // posted handler before this is called.
  void Stop() {
    if (!thread_.joinable()) return;
    loop_.Stop();
    thread_.join();
  }

  // Runs fn on the shard thread and waits for it: for start-up and shutdown, never per packet.
  template <typename Fn>
  void RunAndWait(Fn fn) {
    std::promise<void> done;
    loop_.Post([&] {
      fn();
      done.set_value();
    });
    done.get_future().wait();
  }

  EventLoop& loop() { return loop_; }
  transport::RxBatch* batch() { return &batch_; }

 private:
  EventLoop loop_;
  transport::RxBatch batch_;
  std::thread thread_;
};

}  // namespace vdemesh::datapath
