// check.h: VDEMESH_CHECK for our own broken invariants (never for a peer's or client's bad input,
// which is a counted drop). Logs the failed condition and aborts, so a bug stops the process
// under test instead of being swallowed.
#pragma once

#include <cstdio>
#include <cstdlib>

#define VDEMESH_CHECK(cond)                                                         \
  do {                                                                              \
    if (!(cond)) [[unlikely]] {                                                     \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)
