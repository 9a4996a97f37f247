// control_server.h: serves the control API (proto/control.proto) on a UNIX stream socket.
//
// Thread affinity: everything runs on the io_context given to the constructor (the control
// thread). The server only moves messages: each decoded Request is passed to the handler and the
// handler's Response is written back. It never touches switch state itself.
//
// Framing: varint length prefix + serialized message (protobuf's delimited format). A request
// larger than kMaxRequestBytes, a truncated one, or one that does not parse closes that
// connection with a log line; other clients are unaffected.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/system/result.hpp>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "control.pb.h"

namespace vdemesh::control {

using Handler = std::function<Response(const Request&)>;

class ControlServer {
 public:
  static constexpr std::size_t kMaxRequestBytes = 64 * 1024;
  static constexpr std::size_t kMaxClients = 64;

  // Binds `path` (mode 0660, parent directory created 0755 if missing). A live server on the
  // path is an error; a stale socket file left by a dead one is removed.
  static boost::system::result<std::unique_ptr<ControlServer>> Create(boost::asio::io_context& io,
                                                                      const std::string& path,
                                                                      Handler handler);
  // Closes the listener and every connection and unlinks the socket file. Call it on the
  // io_context's thread (or while nothing runs the io_context); `io` must outlive the server.
  ~ControlServer();

  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  const std::string& path() const { return path_; }

 private:
  ControlServer(boost::asio::io_context& io, std::string path, Handler handler);
  struct Impl;
  // Shared with the accept loop and every connection coroutine, so that a coroutine resumed
  // after the destructor (with operation_aborted) still finds live memory.
  std::shared_ptr<Impl> impl_;
  std::string path_;
};

}  // namespace vdemesh::control
