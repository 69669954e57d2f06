// SHA-256, HMAC-SHA256 and the SigV4 signing key through OpenSSL 3 (see digests.hpp).
#include "aws/digests.hpp"

#include "courier/error.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <string>

namespace courier::aws {
namespace {

[[noreturn]] void fail(std::string detail)
{
    throw error(errc::bad_configuration, std::move(detail));
}

std::span<const unsigned char> bytes_of(std::string_view s) noexcept
{
    return {reinterpret_cast<const unsigned char*>(s.data()), s.size()};
}

// ---- OpenSSL ------------------------------------------------------------------------------

// One digest and one MAC context per thread, reused: creating them costs several allocations,
// which matters at thousands of requests a second. Thread-local destructors run before
// OpenSSL's own cleanup at exit.
struct thread_contexts
{
    EVP_MD_CTX* md = nullptr;
    EVP_MAC_CTX* mac = nullptr;
    ~thread_contexts()
    {
        EVP_MAC_CTX_free(mac);
        EVP_MD_CTX_free(md);
    }
};
thread_local thread_contexts contexts;

// The algorithms are fetched once and never freed: a fetch is a lookup in OpenSSL's provider
// store under a lock, and they live as long as the process.
const EVP_MD* sha256_algorithm()
{
    static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (md == nullptr)
        fail("OpenSSL provides no SHA-256");
    return md;
}

EVP_MAC_CTX* hmac_context()
{
    if (contexts.mac != nullptr)
        return contexts.mac;
    static EVP_MAC* const hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    EVP_MAC_CTX* ctx = hmac != nullptr ? EVP_MAC_CTX_new(hmac) : nullptr;
    // The digest is set once here; EVP_MAC_init then takes only the key, sparing a digest
    // fetch per HMAC.
    char digest_name[] = "SHA256";
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
                                 OSSL_PARAM_construct_end()};
    if (ctx == nullptr || EVP_MAC_CTX_set_params(ctx, params) != 1)
    {
        EVP_MAC_CTX_free(ctx);
        fail("OpenSSL provides no HMAC-SHA256");
    }
    return contexts.mac = ctx;
}

} // namespace

void write_hex(char* out, std::span<const unsigned char> bytes) noexcept
{
    for (unsigned char b : bytes)
    {
        *out++ = "0123456789abcdef"[b >> 4];
        *out++ = "0123456789abcdef"[b & 15];
    }
}

digest sha256(std::string_view data)
{
    if (contexts.md == nullptr && (contexts.md = EVP_MD_CTX_new()) == nullptr)
        fail("OpenSSL could not allocate a digest context");
    digest out;
    unsigned int size = 0;
    if (EVP_DigestInit_ex2(contexts.md, sha256_algorithm(), nullptr) != 1 ||
        EVP_DigestUpdate(contexts.md, data.data(), data.size()) != 1 ||
        EVP_DigestFinal_ex(contexts.md, out.data(), &size) != 1 || size != out.size())
        fail("OpenSSL could not compute SHA-256");
    return out;
}

digest hmac_sha256(std::span<const unsigned char> key, std::string_view data)
{
    EVP_MAC_CTX* ctx = hmac_context();
    // A null key would make EVP_MAC_init reuse the previous key, so an empty key still gets a
    // valid pointer.
    static const unsigned char empty_key = 0;
    digest out;
    std::size_t size = 0;
    const auto in = bytes_of(data);
    if (EVP_MAC_init(ctx, key.empty() ? &empty_key : key.data(), key.size(), nullptr) != 1 ||
        EVP_MAC_update(ctx, in.data(), in.size()) != 1 || EVP_MAC_final(ctx, out.data(), &size, out.size()) != 1 ||
        size != out.size())
        fail("OpenSSL could not compute HMAC-SHA256");
    return out;
}

void append_hex(std::string& out, std::span<const unsigned char> bytes)
{
    const std::size_t size = out.size();
    out.resize(size + 2 * bytes.size());
    write_hex(out.data() + size, bytes);
}

std::string to_hex(std::span<const unsigned char> bytes)
{
    std::string out;
    append_hex(out, bytes);
    return out;
}

digest derive_signing_key(std::string_view secret_access_key, std::string_view date, std::string_view region,
                          std::string_view service)
{
    std::string secret = "AWS4";
    secret += secret_access_key;
    digest key = hmac_sha256(bytes_of(secret), date);
    OPENSSL_cleanse(secret.data(), secret.size());
    key = hmac_sha256(key, region);
    key = hmac_sha256(key, service);
    return hmac_sha256(key, "aws4_request");
}

} // namespace courier::aws
