// keypair.h: the keys of one session with one peer, as the data path uses them.
//
// Created by the control thread when a handshake completes, then moved to the shard, which
// alone touches the mutable parts (send counter, replay window) from then on. Keys wipe
// themselves when the Keypair is destroyed.
#pragma once

#include <chrono>
#include <cstdint>

#include "crypto/aead.h"
#include "crypto/replay_window.h"

namespace vdemesh::transport {

struct Keypair {
  Keypair(crypto::AeadKey send, crypto::AeadKey recv, std::uint32_t local, std::uint32_t remote,
          bool is_initiator, std::chrono::steady_clock::time_point now)
      : send_key(std::move(send)),
        recv_key(std::move(recv)),
        local_index(local),
        remote_index(remote),
        initiator(is_initiator),
        created(now) {}

  crypto::AeadKey send_key;
  crypto::AeadKey recv_key;
  std::uint32_t peer = 0;      // the Tunnel's PeerId of the peer these keys belong to
  std::uint32_t local_index;   // what the peer puts in the receiver field of data to us
  std::uint32_t remote_index;  // what we put in the receiver field of data to the peer
  bool initiator;
  std::chrono::steady_clock::time_point created;

  // Shard-owned.
  std::uint64_t send_counter = 0;
  crypto::ReplayWindow replay;
};

}  // namespace vdemesh::transport
