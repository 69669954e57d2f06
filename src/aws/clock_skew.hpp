// Correcting the signing time when AWS says the local clock is off.
//
// SigV4 signatures carry the request time, and AWS refuses one more than 5 minutes from its
// own (RequestTimeTooSkewed, "Signature expired"). The AWS SDKs then take the server's time
// from the answer's `Date` header, keep the difference as an offset added to the local clock
// for every later signature of that client, and send the request again. Sans-io: the caller
// passes the header and the local time.
#ifndef COURIER_SRC_AWS_CLOCK_SKEW_HPP
#define COURIER_SRC_AWS_CLOCK_SKEW_HPP

#include <chrono>
#include <optional>
#include <string_view>

namespace courier::aws {

/// An HTTP date in the preferred form (RFC 9110 IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT"),
/// the form AWS sends; nullopt for anything else.
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text) noexcept;

/// The offset between the local clock and a service's.
///
/// Thread safety: not thread-safe; the signed client uses it on its strand.
class clock_skew
{
public:
    using time_point = std::chrono::system_clock::time_point;

    /// The time to sign with: `local` corrected by the offset learnt so far (none at first).
    time_point signing_time(time_point local) const noexcept { return local + offset_; }

    /// Learns the offset from a clock-skew answer's `Date` header received at local time
    /// `local`. Returns false, changing nothing, if the header is missing or unreadable:
    /// then there is nothing to correct with.
    bool correct(std::string_view date_header, time_point local) noexcept;

    std::chrono::system_clock::duration offset() const noexcept { return offset_; }

private:
    std::chrono::system_clock::duration offset_{0};
};

} // namespace courier::aws

#endif
