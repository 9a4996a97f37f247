// sodium_init.h: makes sure libsodium is initialized before anything in crypto/ uses it.
//
// sodium_init() picks the fastest implementations for this CPU (and whether AES-GCM is
// available), so it must run before the first primitive. Every crypto/ constructor that touches
// libsodium calls EnsureSodiumInitialized(); callers never need to. Thread-safe: the first call
// runs sodium_init() exactly once (std::call_once); later calls cost one atomic load.
#pragma once

#include <sodium.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace vdemesh::crypto {

inline void EnsureSodiumInitialized() noexcept {
  static std::once_flag once;
  std::call_once(once, [] {
    // sodium_init() fails only when the system offers no entropy source; nothing in this
    // process can be trusted to be secret after that, so stop rather than limp on.
    if (sodium_init() < 0) {
      std::fputs("vdemesh: libsodium failed to initialize (no entropy source?)\n", stderr);
      std::abort();
    }
  });
}

}  // namespace vdemesh::crypto
