// shard.h: one datapath thread with its own io_context (concurrency hint 1) and RxBatch.
//
// Everything a shard runs (NetworkDatapath objects) is created, used and destroyed on its
// thread; other threads reach it only with boost::asio::post. Start with one shard (STYLE.md).
#pragma once

#include <pthread.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <future>
#include <thread>

#include "transport/batch.h"

namespace vdemesh::datapath {

class Shard {
 public:
  Shard() : io_(1), work_(boost::asio::make_work_guard(io_)) {}
  ~Shard() { Stop(); }
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  void Start(const char* name) {
    thread_ = std::thread([this] { io_.run(); });
    pthread_setname_np(thread_.native_handle(), name);
  }
  // Lets queued work finish, then joins. Objects living on the shard must be destroyed by a
  // posted handler before this is called.
  void Stop() {
    if (!thread_.joinable()) return;
    work_.reset();
    thread_.join();
  }

  // Runs fn on the shard thread and waits for it: for start-up and shutdown, never per packet.
  template <typename Fn>
  void RunAndWait(Fn fn) {
    std::promise<void> done;
    boost::asio::post(io_, [&] {
      fn();
      done.set_value();
    });
    done.get_future().wait();
  }

  boost::asio::io_context& context() { return io_; }
  transport::RxBatch* batch() { return &batch_; }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  transport::RxBatch batch_;
  std::thread thread_;
};

}  // namespace vdemesh::datapath
