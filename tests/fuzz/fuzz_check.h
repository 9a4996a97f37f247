// fuzz_check.h: FUZZ_CHECK(cond), the invariant check of the fuzz targets.
//
// A failed check prints the condition and aborts, which libFuzzer reports as a crash and saves
// the input that caused it (crash-<sha1>) for replay: `./request_fuzzer crash-<sha1>`.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                                \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)
