// AWS credentials: the access key id, the secret key, the optional session token and when
// they expire.
//
// A `credentials` value is what a credentials provider hands to the request signer. It holds
// secrets, so on purpose it cannot be streamed or formatted: there is no `operator<<` (a
// deleted one makes any attempt a compile error) and no `fmt::formatter`. Code that needs to
// say which credentials it used logs `access_key_id`, which is not a secret. Never put
// `secret_access_key` or `session_token` in an exception, a log line or a metric.
#ifndef COURIER_AWS_CREDENTIALS_HPP
#define COURIER_AWS_CREDENTIALS_HPP

#include <chrono>
#include <iosfwd>
#include <optional>
#include <string>

namespace courier::aws {

/// One set of AWS credentials.
///
/// Long-term IAM user keys have no session token and no expiration. Temporary credentials
/// (STS, web identity, ECS, IMDS) have both; the signer sends the token as
/// `X-Amz-Security-Token`.
///
/// Thread safety: a plain value. Distinct objects: safe. Shared objects: safe to read.
struct credentials
{
    std::string access_key_id;     ///< e.g. "AKIDEXAMPLE"; not a secret, fine to log
    std::string secret_access_key; ///< secret: never log, never put in an error
    std::string session_token;     ///< secret; empty when the credentials have none
    /// When temporary credentials stop working; empty for long-term keys.
    std::optional<std::chrono::system_clock::time_point> expiration;

    /// True if the credentials have an expiration and it falls before `now + margin`, so they
    /// should be refreshed now. Credentials without an expiration never expire.
    bool expires_within(std::chrono::seconds margin, std::chrono::system_clock::time_point now) const noexcept
    {
        return expiration && *expiration - margin <= now;
    }

    /// True if there is a session token to send.
    bool has_session_token() const noexcept { return !session_token.empty(); }

    /// Printing credentials is refused at compile time: they hold secrets.
    friend std::ostream& operator<<(std::ostream&, const credentials&) = delete;
};

} // namespace courier::aws

#endif
