// AWS Signature Version 4 (SigV4): the request signer every AWS call goes through.
//
// Sans-io: the signer sees a neutral description of an HTTP request (`http_request`, views
// only) and returns the headers to add (`signed_headers`) or, for a presigned URL, the query
// string to send. It never touches a socket and takes the time as an argument, so tests and
// the `courier-sigv4` tool drive it with fixed clocks. The rules are those of the AWS SigV4
// test suite (aws-c-auth `v4` cases): path normalization and double percent-encoding for every
// service but S3, query parameters sorted by encoded name then value, header names lowercased,
// values trimmed with inner whitespace runs collapsed, repeated headers joined with commas.
//
// Hashing and HMAC (aws/digests.hpp) use OpenSSL 3's EVP interfaces. The per-day signing key
// (four HMACs) is cached in the `signer`, so signing one request costs two SHA-256 and one
// HMAC.
//
// Secrets (secret key, session token, signing key, signature) never appear in an exception.
// `signed_headers` and `signing_trace` hold the signature and possibly the session token:
// never log them.
#ifndef COURIER_SRC_AWS_SIGV4_HPP
#define COURIER_SRC_AWS_SIGV4_HPP

#include "aws/digests.hpp"
#include "courier/aws/credentials.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <string_view>

namespace courier::aws {

/// `t` in the SigV4 basic format, "YYYYMMDDTHHMMSSZ" (UTC, seconds truncated).
/// Throws `courier::error` (`bad_configuration`) for years outside 0000-9999.
std::array<char, 16> format_amz_date(std::chrono::system_clock::time_point t);

/// One request header as the caller will send it.
struct header_field
{
    std::string_view name;
    std::string_view value;
};

/// The request to sign. Views only: nothing is copied, so everything it points to must stay
/// alive during the call.
struct http_request
{
    std::string_view method;               ///< "GET", "POST", ...
    std::string_view path;                 ///< raw path as sent, e.g. "/" or "/foo%20bar"
    std::string_view query;                ///< raw query without the '?', may be empty
    std::span<const header_field> headers; ///< the headers to sign, in order; must hold Host
    std::string_view body;                 ///< hashed unless `payload_hash` is set
    /// Precomputed payload hash (lowercase hex SHA-256, or a literal such as
    /// "UNSIGNED-PAYLOAD"); empty means "hash `body`".
    std::string_view payload_hash;
};

/// What a signer signs for: the scope and the variations of the rules.
struct signer_options
{
    std::string region;  ///< e.g. "us-east-1"
    std::string service; ///< signing name, e.g. "sqs"
    /// Remove dot segments and collapse runs of '/' before encoding the path. Every service
    /// but S3 wants this.
    bool normalize_path = true;
    /// Percent-encode every byte of the path except unreserved characters and '/', so an
    /// escape already in the path is encoded again ("%20" becomes "%2520"). Every service but
    /// S3 wants this; false keeps existing escapes as they are.
    bool double_encode_path = true;
    /// Header flavour: add and sign `x-amz-content-sha256` holding the payload hash (S3
    /// requires it; the suite's `sign_body`).
    bool add_content_sha256 = false;
    /// Sign the session token. False sends it without signing it (the suite's
    /// `omit_session_token`, needed by a few services; never by SQS).
    bool sign_session_token = true;
};

/// The intermediate results of one signing, for tools and tests. The canonical request holds
/// the session token when one is signed, and `signature` is a secret: never log a trace.
struct signing_trace
{
    std::string canonical_request;
    std::string string_to_sign;
    std::string signature; ///< lowercase hex
};

/// The headers to add to a request signed in the header flavour. Holds the signature:
/// never log it.
class signed_headers
{
public:
    /// `X-Amz-Date`, e.g. "20150830T123600Z".
    std::string_view amz_date() const noexcept { return {amz_date_.data(), amz_date_.size()}; }
    /// `Authorization`.
    std::string_view authorization() const noexcept { return authorization_; }
    /// `X-Amz-Security-Token`, empty when the credentials have none. Points into the
    /// credentials passed to `signer::sign`, which must outlive this view.
    std::string_view security_token() const noexcept { return security_token_; }
    /// `X-Amz-Content-SHA256`, empty unless `signer_options::add_content_sha256`.
    std::string_view content_sha256() const noexcept { return {content_sha256_.data(), content_sha256_size_}; }

    /// Calls `add(name, value)` for each header to add to the request, skipping empty ones.
    template <typename Fn> void for_each(Fn&& add) const
    {
        add(std::string_view("X-Amz-Date"), amz_date());
        if (!security_token_.empty())
            add(std::string_view("X-Amz-Security-Token"), security_token_);
        if (content_sha256_size_ != 0)
            add(std::string_view("X-Amz-Content-SHA256"), content_sha256());
        add(std::string_view("Authorization"), authorization());
    }

private:
    friend class signer;

    std::array<char, 16> amz_date_{};
    std::array<char, 64> content_sha256_{};
    std::size_t content_sha256_size_ = 0;
    std::string authorization_;
    std::string_view security_token_;
};

/// Signs requests for one region and service, caching the per-day signing key.
///
/// Errors: a malformed request (no Host header, a path without a leading '/', a header that
/// the signer adds itself, control characters in a header, a bad '%' escape in the query, ...)
/// throws `courier::error` with `errc::bad_configuration`; empty credentials throw
/// `errc::no_credentials`. The message names the problem, never a secret or a header value.
///
/// Thread safety: `sign` and `presign` may be called concurrently on one signer; the key cache
/// is guarded by a mutex held for a few comparisons (and for the derivation, once a day).
/// The signer is neither copyable nor movable: keep it where it is built.
class signer
{
public:
    /// Throws `courier::error` (`bad_configuration`) if the region or the service is empty or
    /// holds a character that cannot appear in a credential scope.
    explicit signer(signer_options options);
    ~signer();
    signer(const signer&) = delete;
    signer& operator=(const signer&) = delete;

    /// Header flavour: returns `X-Amz-Date`, `Authorization` and, when needed,
    /// `X-Amz-Security-Token` and `X-Amz-Content-SHA256`. `now` gives the request time.
    signed_headers sign(const http_request& request, const credentials& creds,
                        std::chrono::system_clock::time_point now, signing_trace* trace = nullptr) const;

    /// Query flavour (presigned URL): returns the query string to send instead of
    /// `request.query`, i.e. the original query followed by the `X-Amz-*` parameters,
    /// `X-Amz-Signature` last. `expires` must be 1 s to 7 days.
    std::string presign(const http_request& request, const credentials& creds,
                        std::chrono::system_clock::time_point now, std::chrono::seconds expires,
                        signing_trace* trace = nullptr) const;

    const signer_options& options() const noexcept { return options_; }

    /// How many times a signing key was derived rather than taken from the cache (tests and
    /// metrics).
    std::uint64_t key_derivations() const;

private:
    digest signing_key(const credentials& creds, std::string_view amz_date) const;

    signer_options options_;

    // The key cache: one entry, keyed by scope date and credentials (region and service are
    // fixed per signer). The secret is compared too, so rotated keys that keep their id are
    // not signed with a stale key.
    mutable std::mutex mutex_;
    mutable std::array<char, 8> cached_date_{};
    mutable std::string cached_access_key_id_;
    mutable std::string cached_secret_;
    mutable digest cached_key_{};
    mutable std::uint64_t derivations_ = 0;
};

} // namespace courier::aws

#endif
