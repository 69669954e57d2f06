// From an AWS error answer to courier's error: the standard retry mode's reading of it (was
// it the sender's fault, throttling, transient) and the `courier::error` it becomes. SQS (JSON
// protocol) and SNS (query protocol) read their bodies differently and then share this.
#ifndef COURIER_SRC_AWS_SERVICE_ERROR_HPP
#define COURIER_SRC_AWS_SERVICE_ERROR_HPP

#include "courier/error.hpp"

#include <initializer_list>
#include <optional>
#include <string_view>

namespace courier::aws {

/// How the standard retry mode reads an error answer.
struct answer_class
{
    bool sender_fault = false; ///< the request was wrong
    bool retryable = false;    ///< throttling, or a transient failure
    bool throttling = false;   ///< retryable, and the server asked us to slow down
};

/// Classifies an error answer: `fault` is what the answer said of itself ("Sender" or
/// "Receiver"; anything else: a 4xx status is the sender's fault); throttling is status 429 or
/// any of `codes` on the throttling list or in `more_throttling_codes` (a service's own);
/// transient is status 500, 502, 503, 504 or any of `codes` on the transient list.
answer_class classify_answer(int http_status, std::string_view fault, std::initializer_list<std::string_view> codes,
                             std::initializer_list<std::string_view> more_throttling_codes = {});

/// What an error answer said, for `make_service_error`.
struct service_answer
{
    std::string_view service; ///< "SQS", in the error text
    std::string_view code;    ///< short code, into the context
    std::string_view message; ///< the server's text (already capped), into the context
    int http_status = 0;
    answer_class kind;
};

/// The permanent condition an error code names, if any: a missing resource (`not_found`),
/// denied access (`access_denied`), refused credentials (`invalid_credentials`). Retrying
/// cannot heal these (`courier::is_permanent`).
std::optional<errc> permanent_refusal(std::string_view code) noexcept;

/// The exception for an error answer: `errc::throttled` ("<service> throttled the request")
/// if it was throttling, otherwise `errc::server_error` ("<service> failed the request
/// (transient, retryable)", "<service> rejected the request" or "<service> failed the
/// request"). The context carries action, resource (in `queue`), code, message and status.
courier::error make_service_error(const service_answer& answer, std::string_view action, std::string_view resource);

} // namespace courier::aws

#endif
