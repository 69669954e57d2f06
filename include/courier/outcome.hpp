// How a message's processing ends when it does not simply succeed.
//
// Success (the handler returns) acks the message. A handler can force another outcome
// by throwing `delete_message` or `retry_message`. Any other exception, from the
// translator or the handler, goes to the route's error handler, which returns an
// `error_action`: retry after a delay, ack anyway, or leave the message to the
// provider's visibility timeout. Without an error handler the message is left and the
// error logged: never lost, never spun on.
#ifndef COURIER_OUTCOME_HPP
#define COURIER_OUTCOME_HPP

#include <courier/context.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <stdexcept>
#include <string>

namespace courier {

/// Thrown by a handler to acknowledge (delete) the message without running the error
/// handler, e.g. for a message that is obsolete or can never succeed.
class delete_message : public std::runtime_error
{
public:
    explicit delete_message(const std::string& reason = "handler asked to delete the message")
        : std::runtime_error(reason)
    {
    }
};

/// Thrown by a handler to have the message redelivered after `delay`, without running
/// the error handler (e.g. a dependency said "try again in 30 s").
class retry_message : public std::runtime_error
{
public:
    explicit retry_message(std::chrono::milliseconds delay,
                           const std::string& reason = "handler asked to retry the message")
        : std::runtime_error(reason), delay_(delay)
    {
    }
    std::chrono::milliseconds delay() const noexcept { return delay_; }

private:
    std::chrono::milliseconds delay_;
};

/// The decision of an error handler.
struct error_action
{
    enum class kind
    {
        retry, ///< make the message visible again after `delay`
        ack,   ///< delete it: the error is final and the message is not wanted
        leave, ///< do nothing: it comes back when its visibility timeout expires
    };
    kind what = kind::leave;
    std::chrono::milliseconds delay{0};

    static error_action retry_after(std::chrono::milliseconds d) { return {kind::retry, d}; }
    static error_action ack() { return {kind::ack, {}}; }
    static error_action leave() { return {kind::leave, {}}; }

    friend bool operator==(const error_action&, const error_action&) = default;
};

/// Called with the context and the exception when translation or handling failed.
/// It runs on the route's strand and must not block.
using error_handler = std::function<error_action(const context&, std::exception_ptr)>;

/// Exponential backoff with jitter, keyed on the receive count.
struct backoff_options
{
    /// Delay after the first failed delivery.
    std::chrono::milliseconds base{std::chrono::seconds(1)};
    /// Upper bound of the delay (SQS allows at most 12 h of visibility).
    std::chrono::milliseconds max{std::chrono::minutes(15)};
    /// Randomize each delay within [d/2, d] so failed messages do not come back in
    /// lockstep.
    bool jitter = true;
};

/// The delay before delivery number `receive_count + 1`: base * 2^(receive_count - 1),
/// capped at `max`, jittered as configured. `random01` yields values in [0, 1).
std::chrono::milliseconds backoff_delay(const backoff_options& options,
                                        std::uint32_t receive_count,
                                        const std::function<double()>& random01 = {});

/// An error handler that retries every failure with `backoff_delay`, and logs it.
error_handler retry_with_backoff(backoff_options options = {});

/// The `what()` of an exception pointer, for logs ("unknown exception" otherwise).
std::string describe(std::exception_ptr error);

/// True if `error` is a translation failure (the body could not be turned into the
/// handler's type): retrying will not help, so error handlers usually ack or leave it
/// for the dead-letter queue.
bool is_translation_error(std::exception_ptr error);

} // namespace courier

#endif
