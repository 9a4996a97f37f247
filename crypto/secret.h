// secret.h: fixed-size secret byte arrays that wipe themselves.
//
// Invariant: the bytes of a SecretBytes are overwritten with sodium_memzero() when it is
// destroyed and when it is moved from, so no secret outlives the object that owned it (wg does
// this by hand at its `out:` labels). Copies are never implicit: a second copy of a secret must
// be asked for with Clone(), so it shows in review.
//
// The Tag parameter makes keys of different roles distinct types (a host private key cannot be
// passed where the network key is expected); Key32 is the untyped 32-byte secret.
// Thread affinity: none; a SecretBytes is a value like any other.
#pragma once

#include <sodium.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "crypto/constants.h"

namespace vdemesh::crypto {

template <std::size_t N, typename Tag>
class SecretBytes {
 public:
  static constexpr std::size_t kSize = N;

  // All zero: "no key yet".
  SecretBytes() noexcept { bytes_.fill(0); }
  explicit SecretBytes(std::span<const std::uint8_t, N> bytes) noexcept {
    for (std::size_t i = 0; i < N; ++i) bytes_[i] = bytes[i];
  }
  ~SecretBytes() { Wipe(); }

  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  // Moving copies the bytes and wipes the source.
  SecretBytes(SecretBytes&& other) noexcept : bytes_(other.bytes_) { other.Wipe(); }
  SecretBytes& operator=(SecretBytes&& other) noexcept {
    if (this != &other) {
      bytes_ = other.bytes_;
      other.Wipe();
    }
    return *this;
  }

  [[nodiscard]] SecretBytes Clone() const noexcept { return SecretBytes(span()); }

  std::uint8_t* data() noexcept { return bytes_.data(); }
  const std::uint8_t* data() const noexcept { return bytes_.data(); }
  static constexpr std::size_t size() noexcept { return N; }
  std::span<std::uint8_t, N> span() noexcept { return std::span<std::uint8_t, N>(bytes_); }
  std::span<const std::uint8_t, N> span() const noexcept {
    return std::span<const std::uint8_t, N>(bytes_);
  }

  void Wipe() noexcept { sodium_memzero(bytes_.data(), N); }
  bool IsZero() const noexcept { return sodium_is_zero(bytes_.data(), N) == 1; }
  // Constant time, so comparing a secret leaks nothing about where it differs.
  bool Equals(const SecretBytes& other) const noexcept {
    return sodium_memcmp(bytes_.data(), other.bytes_.data(), N) == 0;
  }

 private:
  std::array<std::uint8_t, N> bytes_;
};

struct GenericSecretTag;
using Key32 = SecretBytes<kKeyBytes, GenericSecretTag>;

}  // namespace vdemesh::crypto
