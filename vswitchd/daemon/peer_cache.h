// peer_cache.h: the addresses of the peers a daemon had up, kept on disk so that it finds the
// mesh again after a restart even if every host its --peer options name is gone (a
// decommissioned first server), as tinc and ZeroTier remember theirs.
//
// One file next to the host key (HOST-KEY.peers), one line per peer: "NETWORK ADDRESS", e.g.
// "lab 192.0.2.7:6655" or "lab [2001:db8::7]:6655". Written whole to a temporary file and
// renamed, so a crash never leaves half a file; a line that does not parse is skipped. On
// start, each address is tried like one learned by peer exchange (and forgotten after a few
// unanswered handshakes); the handshake, not the file, says who is there, so the file is
// neither secret nor trusted.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "transport/endpoint.h"

namespace vdemesh::daemon {

inline constexpr std::size_t kMaxCachedPeers = 64;  // per network

using PeerAddresses = std::map<std::string, std::vector<transport::Endpoint>>;  // by network

// What `path` holds; empty if it is missing. Lines that do not parse, and addresses past
// kMaxCachedPeers, are skipped (*skipped counts them).
PeerAddresses LoadPeerCache(const std::string& path, std::size_t* skipped);
// Replaces `path` with `peers`; false with *err on failure.
bool SavePeerCache(const std::string& path, const PeerAddresses& peers, std::string* err);

}  // namespace vdemesh::daemon
