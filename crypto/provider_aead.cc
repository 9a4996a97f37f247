// provider_aead.cc: OpenSSL's AEAD ciphers through their provider functions. See provider_aead.h.
#include "crypto/provider_aead.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/provider.h>
#include <strings.h>

#include <string>

#include "common/check.h"

namespace vdemesh::crypto {
namespace {

// True when `name` is one of the colon-separated names in `names` ("AES-256-GCM:id-aes256-GCM:
// 2.16.840.1.101.3.4.1.46"); OpenSSL's names are case-insensitive.
bool NamesInclude(std::string_view names, std::string_view name) {
  while (!names.empty()) {
    const std::size_t colon = names.find(':');
    const std::string_view one = names.substr(0, colon);
    if (one.size() == name.size() && strncasecmp(one.data(), name.data(), name.size()) == 0)
      return true;
    if (colon == std::string_view::npos) break;
    names.remove_prefix(colon + 1);
  }
  return false;
}

}  // namespace

void ProviderAead::FreeCipher::operator()(EVP_CIPHER* cipher) const noexcept {
  EVP_CIPHER_free(cipher);
}

std::optional<ProviderAead> ProviderAead::Find(std::string_view name) noexcept {
  // Ask EVP which provider it would use for this cipher (this honours the OpenSSL configuration,
  // a FIPS-only one included), then take that provider's implementation.
  ProviderAead found;
  found.fetched_.reset(EVP_CIPHER_fetch(nullptr, std::string(name).c_str(), nullptr));
  if (found.fetched_ == nullptr) return std::nullopt;
  OSSL_PROVIDER* const provider =
      const_cast<OSSL_PROVIDER*>(EVP_CIPHER_get0_provider(found.fetched_.get()));
  if (provider == nullptr) return std::nullopt;
  int no_store = 0;
  const OSSL_ALGORITHM* const algorithms =
      OSSL_PROVIDER_query_operation(provider, OSSL_OP_CIPHER, &no_store);
  bool bound = false;
  for (const OSSL_ALGORITHM* a = algorithms; a != nullptr && a->algorithm_names != nullptr; ++a) {
    if (NamesInclude(a->algorithm_names, name)) {
      bound = found.Bind(a->implementation);
      break;
    }
  }
  if (algorithms != nullptr) OSSL_PROVIDER_unquery_operation(provider, OSSL_OP_CIPHER, algorithms);
  if (!bound) return std::nullopt;
  found.provider_ctx_ = OSSL_PROVIDER_get0_provider_ctx(provider);
  return found;
}

bool ProviderAead::Bind(const OSSL_DISPATCH* dispatch) noexcept {
  for (const OSSL_DISPATCH* f = dispatch; f->function_id != 0; ++f) {
    switch (f->function_id) {
      case OSSL_FUNC_CIPHER_NEWCTX: newctx_ = OSSL_FUNC_cipher_newctx(f); break;
      case OSSL_FUNC_CIPHER_FREECTX: freectx_ = OSSL_FUNC_cipher_freectx(f); break;
      case OSSL_FUNC_CIPHER_ENCRYPT_INIT: encrypt_init_ = OSSL_FUNC_cipher_encrypt_init(f); break;
      case OSSL_FUNC_CIPHER_DECRYPT_INIT: decrypt_init_ = OSSL_FUNC_cipher_decrypt_init(f); break;
      case OSSL_FUNC_CIPHER_UPDATE: update_ = OSSL_FUNC_cipher_update(f); break;
      case OSSL_FUNC_CIPHER_FINAL: final_ = OSSL_FUNC_cipher_final(f); break;
      case OSSL_FUNC_CIPHER_GET_CTX_PARAMS:
        get_ctx_params_ = OSSL_FUNC_cipher_get_ctx_params(f);
        break;
      case OSSL_FUNC_CIPHER_SET_CTX_PARAMS:
        set_ctx_params_ = OSSL_FUNC_cipher_set_ctx_params(f);
        break;
      default: break;
    }
  }
  return newctx_ != nullptr && freectx_ != nullptr && encrypt_init_ != nullptr &&
         decrypt_init_ != nullptr && update_ != nullptr && final_ != nullptr &&
         get_ctx_params_ != nullptr && set_ctx_params_ != nullptr;
}

void* ProviderAead::NewKeyed(const Key32& key, bool seal) const noexcept {
  void* const ctx = newctx_(provider_ctx_);
  VDEMESH_CHECK(ctx != nullptr);
  const auto init = seal ? encrypt_init_ : decrypt_init_;
  VDEMESH_CHECK(init(ctx, key.data(), key.size(), nullptr, 0, nullptr) == 1);
  return ctx;
}

void ProviderAead::Free(void* ctx) const noexcept {
  if (ctx != nullptr) freectx_(ctx);
}

void ProviderAead::Seal(void* ctx, Nonce nonce, std::span<const std::uint8_t> ad,
                        std::span<std::uint8_t> head, std::span<const std::uint8_t> body,
                        std::uint8_t* body_out, std::uint8_t* tag_out) const noexcept {
  // update() takes the room at `out` and refuses less than the input: in place, it is the input.
  std::size_t n = 0;
  bool ok = encrypt_init_(ctx, nullptr, 0, nonce.data(), nonce.size(), nullptr) == 1;
  if (!ad.empty()) ok = ok && update_(ctx, nullptr, &n, ad.size(), ad.data(), ad.size()) == 1;
  if (!head.empty())
    ok = ok && update_(ctx, head.data(), &n, head.size(), head.data(), head.size()) == 1;
  if (!body.empty())
    ok = ok && update_(ctx, body_out, &n, body.size(), body.data(), body.size()) == 1;
  ok = ok && final_(ctx, nullptr, &n, 0) == 1;  // an AEAD's final writes nothing
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag_out, kAeadTagBytes),
      OSSL_PARAM_construct_end()};
  ok = ok && get_ctx_params_(ctx, params) == 1;
  VDEMESH_CHECK(ok);
}

bool ProviderAead::Open(void* ctx, Nonce nonce, std::span<const std::uint8_t> ad,
                        std::span<std::uint8_t> data, const std::uint8_t* tag) const noexcept {
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG,
                                        const_cast<std::uint8_t*>(tag), kAeadTagBytes),
      OSSL_PARAM_construct_end()};
  std::size_t n = 0;
  bool ok = decrypt_init_(ctx, nullptr, 0, nonce.data(), nonce.size(), nullptr) == 1 &&
            set_ctx_params_(ctx, params) == 1;
  if (!ad.empty()) ok = ok && update_(ctx, nullptr, &n, ad.size(), ad.data(), ad.size()) == 1;
  if (!data.empty())
    ok = ok && update_(ctx, data.data(), &n, data.size(), data.data(), data.size()) == 1;
  return ok && final_(ctx, nullptr, &n, 0) == 1;  // checks the tag
}

}  // namespace vdemesh::crypto
