// The digests SigV4 is made of, through OpenSSL 3's EVP interfaces: SHA-256, HMAC-SHA256,
// their lowercase hex form, and the derivation of the per-day signing key. Each thread keeps
// one digest and one MAC context, reused from call to call.
#ifndef COURIER_SRC_AWS_DIGESTS_HPP
#define COURIER_SRC_AWS_DIGESTS_HPP

#include <array>
#include <span>
#include <string>
#include <string_view>

namespace courier::aws {

/// A SHA-256 digest, an HMAC-SHA256 result or a SigV4 signing key: 32 bytes.
using digest = std::array<unsigned char, 32>;

/// SHA-256 of `data`. Throws `courier::error` only if OpenSSL cannot provide SHA-256.
digest sha256(std::string_view data);

/// HMAC-SHA256 of `data` under `key`.
digest hmac_sha256(std::span<const unsigned char> key, std::string_view data);

/// Writes `bytes` as lowercase hex to `out`, which has room for twice as many characters.
void write_hex(char* out, std::span<const unsigned char> bytes) noexcept;

/// Appends `bytes` to `out` as lowercase hex.
void append_hex(std::string& out, std::span<const unsigned char> bytes);

/// `bytes` as lowercase hex.
std::string to_hex(std::span<const unsigned char> bytes);

/// The SigV4 signing key: HMAC("AWS4" + secret, date) chained with region, service and
/// "aws4_request". `date` is the scope date, "YYYYMMDD". The result is a secret.
digest derive_signing_key(std::string_view secret_access_key, std::string_view date, std::string_view region,
                          std::string_view service);

} // namespace courier::aws

#endif
