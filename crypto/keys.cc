// keys.cc: X25519 keys, base64 text and key files. See keys.h for the rules.
#include "crypto/keys.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "common/check.h"
#include "crypto/sodium_init.h"

namespace vdemesh::crypto {
namespace {

// A key file is one 44-character line; anything much longer is not a key file.
constexpr std::size_t kMaxKeyFileBytes = 128;
// The text of a key file while we hold it: secret for private and network keys, so it wipes.
struct KeyTextTag;
using KeyFileText = SecretBytes<kMaxKeyFileBytes + 1, KeyTextTag>;

// Closes a descriptor on every return path.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() {
    if (fd_ >= 0) ::close(fd_);
  }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;
  // Closes now and reports the result (a failed close can mean lost data on write).
  bool Close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc == 0;
  }

 private:
  int fd_;
};

std::string Errno(int error) { return std::strerror(error); }

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Checks what fstat() tells about a key file: a regular file that only its owner may access.
bool CheckKeyFileMode(const std::string& path, const struct stat& st, std::string* err) {
  if (!S_ISREG(st.st_mode)) {
    *err = "key file " + path + " is not a regular file";
    return false;
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
    *err = "key file " + path + " is accessible to group or others (mode " + mode +
           "); run: chmod 600 " + path;
    return false;
  }
  if (st.st_size > static_cast<off_t>(kMaxKeyFileBytes)) {
    *err = "key file " + path + " is too large to hold one base64 key";
    return false;
  }
  return true;
}

// Reads the whole (small) file into *text; returns the byte count, or -1 with *err set.
long ReadSmallFile(int fd, const std::string& path, KeyFileText* text, std::string* err) {
  std::size_t used = 0;
  for (;;) {
    const ssize_t n = ::read(fd, text->data() + used, text->size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *err = "cannot read key file " + path + ": " + Errno(errno);
      return -1;
    }
    if (n == 0) return static_cast<long>(used);
    used += static_cast<std::size_t>(n);
    // SECURITY: the buffer has one spare byte, so filling it means the file grew past the
    // limit after fstat(); refuse instead of parsing a prefix.
    if (used == text->size()) {
      *err = "key file " + path + " is too large to hold one base64 key";
      return -1;
    }
  }
}

bool WriteAll(int fd, const char* data, std::size_t len) {
  while (len > 0) {
    const ssize_t n = ::write(fd, data, len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) {
      errno = EIO;
      return false;
    }
    data += n;
    len -= static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

KeyPair GenerateKeyPair() {
  EnsureSodiumInitialized();
  KeyPair pair;
  randombytes_buf(pair.private_key.data(), kKeyBytes);
  // Clamp as RFC 7748 section 5 and `wg genkey` do, so the stored key is the scalar used.
  pair.private_key.data()[0] &= 248;
  pair.private_key.data()[31] &= 127;
  pair.private_key.data()[31] |= 64;
  pair.public_key = DerivePublic(pair.private_key);
  return pair;
}

PublicKey DerivePublic(const PrivateKey& private_key) {
  EnsureSodiumInitialized();
  PublicKey pub;
  // Never fails for X25519: clamping makes the scalar non-zero.
  VDEMESH_CHECK(crypto_scalarmult_base(pub.bytes.data(), private_key.data()) == 0);
  return pub;
}

NetworkKey GenerateNetworkKey() {
  EnsureSodiumInitialized();
  NetworkKey key;
  randombytes_buf(key.data(), key.size());
  return key;
}

bool X25519(const PrivateKey& private_key, const PublicKey& public_key, Key32* shared) noexcept {
  EnsureSodiumInitialized();
  // libsodium returns -1 for an all-zero result, i.e. a low-order point (RFC 7748 section 6.1
  // recommends the check): such a "shared" secret would be known to an attacker.
  if (crypto_scalarmult(shared->data(), private_key.data(), public_key.bytes.data()) != 0) {
    shared->Wipe();
    return false;
  }
  return true;
}

std::string EncodeBase64Key(std::span<const std::uint8_t, kKeyBytes> key) {
  EnsureSodiumInitialized();
  std::array<char, kKeyBase64Chars + 1> text;  // + NUL written by libsodium
  sodium_bin2base64(text.data(), text.size(), key.data(), key.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  std::string out(text.data(), kKeyBase64Chars);
  sodium_memzero(text.data(), text.size());
  return out;
}

std::optional<Key32> DecodeBase64Key(std::string_view text) {
  EnsureSodiumInitialized();
  if (text.size() != kKeyBase64Chars) return std::nullopt;
  Key32 key;
  std::size_t bin_len = 0;
  const char* end = nullptr;
  // No `ignore` characters and the end pointer must reach the end: nothing but the key.
  // libsodium also rejects non-zero padding bits, so every key has exactly one spelling.
  const int rc = sodium_base642bin(key.data(), key.size(), text.data(), text.size(), nullptr,
                                   &bin_len, &end, sodium_base64_VARIANT_ORIGINAL);
  if (rc != 0 || bin_len != kKeyBytes || end != text.data() + text.size()) return std::nullopt;
  return key;
}

std::optional<PublicKey> DecodePublicKey(std::string_view text) {
  std::optional<Key32> key = DecodeBase64Key(text);
  if (!key) return std::nullopt;
  PublicKey pub;
  std::memcpy(pub.bytes.data(), key->data(), kKeyBytes);
  return pub;
}

std::string Fingerprint(const PublicKey& key) {
  return EncodePublicKey(key).substr(0, kFingerprintChars);
}

std::optional<Key32> ReadKeyFile(const std::string& path, std::string* err) {
  // O_NONBLOCK: opening a FIFO must not hang start-up; fstat() then refuses it.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    *err = "cannot open key file " + path + ": " + Errno(errno);
    return std::nullopt;
  }
  FdCloser closer(fd);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    *err = "cannot stat key file " + path + ": " + Errno(errno);
    return std::nullopt;
  }
  if (!CheckKeyFileMode(path, st, err)) return std::nullopt;
  KeyFileText text;
  const long len = ReadSmallFile(fd, path, &text, err);
  if (len < 0) return std::nullopt;
  const std::string_view content(reinterpret_cast<const char*>(text.data()),
                                 static_cast<std::size_t>(len));
  std::optional<Key32> key = DecodeBase64Key(TrimSpace(content));
  if (!key) {
    // Never echo the content: it may be a mangled secret.
    *err = "key file " + path + " does not hold one base64 key of " +
           std::to_string(kKeyBase64Chars) + " characters (as written by vswitchctl genkey)";
  }
  return key;
}

bool WriteKeyFile(const std::string& path, std::span<const std::uint8_t, kKeyBytes> key,
                  std::string* err) {
  EnsureSodiumInitialized();
  const int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
  if (fd < 0) {
    *err = errno == EEXIST ? "key file " + path + " already exists; refusing to overwrite it"
                           : "cannot create key file " + path + ": " + Errno(errno);
    return false;
  }
  FdCloser closer(fd);
  std::array<char, kKeyBase64Chars + 1> text;
  sodium_bin2base64(text.data(), text.size(), key.data(), key.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  text[kKeyBase64Chars] = '\n';
  // fchmod: the umask can only remove bits, but the mode must be exactly 0600 whatever it is.
  const bool written =
      ::fchmod(fd, 0600) == 0 && WriteAll(fd, text.data(), text.size()) && ::fsync(fd) == 0;
  int error = written ? 0 : errno;
  sodium_memzero(text.data(), text.size());
  if (!closer.Close() && error == 0) error = errno;
  if (error != 0) {
    *err = "cannot write key file " + path + ": " + Errno(error);
    ::unlink(path.c_str());  // no half-written key file may be left behind
    return false;
  }
  return true;
}

}  // namespace vdemesh::crypto
