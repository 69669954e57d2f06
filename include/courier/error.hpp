// Error codes and the one exception type courier throws.
//
// Transport code reports failures as `courier::errc` values wrapped in
// `courier::error`, a `std::system_error` that also carries where it happened (route,
// message id, provider action, queue) and what a server said. Handlers throw whatever
// they like; courier catches at the route boundary and hands the exception to the
// route's error handler. Nothing in an error ever contains a secret.
#ifndef COURIER_ERROR_HPP
#define COURIER_ERROR_HPP

#include <exception>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace courier {

/// Failure conditions raised by courier itself.
enum class errc
{
    /// A route or option was configured wrongly (detected before anything runs).
    bad_configuration = 1,
    /// The translator could not turn the message body into the handler's type.
    translation_failed,
    /// The receipt no longer names a delivery the provider holds: the message was settled
    /// already, or delivered again since.
    stale_receipt,
    /// The provider has been closed; no more operations are accepted.
    provider_closed,
    /// The server answered with an error (see `error::context` for what it said).
    server_error,
    /// The server's answer could not be understood (wrong shape, truncated, too big).
    bad_response,
    /// A network operation failed or timed out.
    transport_failed,
    /// No usable credentials were found, or they expired and could not be refreshed.
    no_credentials,
    /// The server throttled the request.
    throttled,
    /// The provider refuses to keep the message hidden any longer (SQS: 12 hours in total
    /// since it was received).
    visibility_limit,
    /// The queue or topic does not exist (or not in this region, or not for this account).
    not_found,
    /// The credentials are valid but may not do this (an IAM policy, a queue policy, a KMS
    /// key policy).
    access_denied,
    /// The server does not accept the credentials (an unknown access key, a bad signature).
    invalid_credentials,
    /// No listener of an event route knows the message's event name (see
    /// `unknown_event_policy`).
    unknown_event,
};

/// The name of `e` as written above ("throttled", "not_found", ...).
std::string_view to_string(errc e) noexcept;

/// True for failures that retrying cannot heal: a missing queue, denied access, invalid
/// credentials, a bad configuration. A route whose receive fails so stops, and the manager
/// exits with `exit_permanent_error` (see `dispatcher_options::on_permanent_error`).
bool is_permanent(std::exception_ptr error);

const std::error_category& courier_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept
{
    return {static_cast<int>(e), courier_category()};
}

/// Where an error happened and what the other side said. Every field is optional;
/// empty fields are left out of `what()`.
struct error_context
{
    std::string route{};          ///< route name
    std::string message_id{};     ///< provider message id
    std::string action{};         ///< provider action, e.g. "DeleteMessageBatch"
    std::string queue{};          ///< queue name or URL
    std::string server_code{};    ///< server error code, e.g. "AWS.SimpleQueueService.NonExistentQueue"
    std::string server_message{}; ///< the server's own text (untrusted, shown as is)
    int status = 0;               ///< the server's status code (HTTP status, STOMP or AMQP reply code), 0 if none
};

/// The exception courier throws: an error code, a description and its context.
class error : public std::system_error
{
public:
    error(std::error_code code, std::string detail, error_context context = {});
    error(errc code, std::string detail, error_context context = {})
        : error(make_error_code(code), std::move(detail), std::move(context))
    {
    }

    /// "detail [route=... message=... action=... status=... server=code: text]"
    /// (std::system_error would append the category's text; ours is more precise).
    const char* what() const noexcept override { return rendered_.c_str(); }
    const error_context& context() const noexcept { return context_; }
    /// The description without the context fields.
    const std::string& detail() const noexcept { return detail_; }
    /// The description with the context fields other than route and message id, for a log
    /// line that names those already.
    std::string without_route_and_message() const;

private:
    std::string rendered_;
    std::string detail_;
    error_context context_;
};

/// The text of any exception pointer, for logs: its `what()`, "unknown exception" for one
/// that is not a `std::exception`, "no error" for null.
std::string error_text(std::exception_ptr error);

} // namespace courier

template <> struct std::is_error_code_enum<courier::errc> : std::true_type
{
};

#endif
