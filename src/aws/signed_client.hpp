// One AWS service endpoint: resolved endpoint and region, credentials, SigV4, the pooled
// HTTP client and the standard retry mode. Protocol code (SQS's JSON 1.0, SNS's query
// protocol) renders bodies and reads answers; this class moves them.
//
// Calls run on the client's strand, which keeps the retry quota, the signer's key cache, the
// clock-skew correction and the HTTP pool single-threaded while callers may be anywhere.
//
// Beyond the standard retry mode, an answer that refuses the request's authentication gets
// one more attempt, at once, when signing again can help (as the AWS SDKs do): after
// ExpiredToken or InvalidClientTokenId, with fresh credentials if the credentials provider
// can get some (`credentials_provider::invalidate`); after a clock-skew answer, with the
// signing time corrected by the server's Date header (kept for every later request).
#ifndef COURIER_SRC_AWS_SIGNED_CLIENT_HPP
#define COURIER_SRC_AWS_SIGNED_CLIENT_HPP

#include "aws/clock_skew.hpp"
#include "aws/error_codes.hpp"
#include "aws/sigv4.hpp"
#include "detail/serial_executor.hpp"
#include "http/client.hpp"
#include "http/retry.hpp"

#include <courier/aws/client_options.hpp>
#include <courier/clock.hpp>
#include <courier/error.hpp>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace courier::detail::metrics {
struct request_series;
}

namespace courier::aws {

/// Which service: its signing name and how its endpoint is named.
struct service_names
{
    std::string_view signing_name; ///< "sqs"
    std::string_view env_suffix;   ///< "SQS" in AWS_ENDPOINT_URL_SQS
    std::string_view host_prefix;  ///< "sqs" in https://sqs.<region>.amazonaws.com
};

/// One request as the protocol layer describes it.
struct service_request
{
    std::string_view action;       ///< "DeleteMessageBatch", for errors and logs
    std::string_view resource;     ///< queue URL or topic ARN, for errors
    std::string_view content_type; ///< signed
    std::string_view target;       ///< X-Amz-Target (JSON protocols); empty for none
    std::string body;
};

/// What a non-200 answer means: the error to throw, whether to retry, and whether it refused
/// the request's authentication in a way signing again can fix.
struct failed_answer
{
    courier::error error;
    bool retryable = false;
    bool throttling = false;
    auth_refusal auth = auth_refusal::none;
};

/// Reads a non-200 answer (status, the whole response) for `request`.
using error_reader = std::function<failed_answer(const http::response&, const service_request&)>;

class signed_client
{
public:
    signed_client(boost::asio::any_io_executor executor, client_options options, service_names service,
                  error_reader read_error);

    /// Sends `request` and returns the body of its 200 answer; retries as configured and
    /// throws `courier::error` after the last attempt. Cancellation: terminal, aborts the
    /// attempt in progress.
    boost::asio::awaitable<std::string> call(service_request request, std::chrono::milliseconds timeout);
    boost::asio::awaitable<std::string> call(service_request request)
    {
        return call(std::move(request), options_.request_timeout);
    }

    const client_options& options() const noexcept { return options_; }
    /// The options' clock, or the real one.
    const std::shared_ptr<courier::clock>& clock() const noexcept { return clock_; }
    /// The standard retry mode's settings (read-only: safe from any thread).
    const http::retry_options& retry_options() const noexcept { return retry_.options(); }
    /// What the last clock-skew answer taught: server time minus local time (zero at first).
    std::chrono::system_clock::duration clock_offset() const noexcept { return skew_.offset(); }
    const std::string& endpoint() const noexcept { return endpoint_; }
    const std::string& region() const noexcept { return region_; }
    /// Requests sent (attempts, retries included), for stats and tests.
    std::uint64_t attempts_sent() const noexcept { return attempts_sent_; }
    /// The HTTP client underneath, for white-box tests that rebuild it over another
    /// transport or clock (before the first call).
    http::client& http() noexcept { return http_; }

private:
    boost::asio::awaitable<std::string> attempt_loop(service_request request, std::chrono::milliseconds timeout);
    // Whether to sign `request` again at once after an answer refusing its authentication;
    // `renewed` and `corrected` say whether that was done already for this request.
    // Where requests for `action` are counted (strand only).
    courier::detail::metrics::request_series& request_series(std::string_view action);
    bool sign_again(const failed_answer& answer, const http::response& response, const credentials& used,
                    const service_request& request, bool& renewed, bool& corrected);

    client_options options_;
    std::shared_ptr<courier::clock> clock_;
    std::string_view service_label_;      // "SQS", the `service` label of the request metrics
    boost::asio::any_io_executor strand_; // see make_serial
    std::string region_;
    std::string endpoint_;
    http::client http_;
    signer signer_;
    http::retry_policy retry_;
    clock_skew skew_;
    error_reader read_error_;
    std::atomic<std::uint64_t> attempts_sent_{0};
    std::vector<std::pair<std::string, courier::detail::metrics::request_series*>> measured_actions_;
};

} // namespace courier::aws

#endif
