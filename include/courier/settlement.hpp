// What becomes of a message: the one vocabulary that the API, the engine, the statistics and
// the log lines use.
//
// A handler that returns has its message acknowledged. A handler can force another
// settlement by throwing `delete_message`, `retry_message` or `leave_message`; any other failure goes to the
// route's error handler (error_handler.hpp), whose `error_action` names a settlement too.
#ifndef COURIER_SETTLEMENT_HPP
#define COURIER_SETTLEMENT_HPP

#include <chrono>
#include <stdexcept>
#include <string>
#include <string_view>

namespace courier {

/// What becomes of a delivered message.
enum class settlement
{
    /// Done: the provider deletes it and does not deliver it again.
    ack,
    /// Delivered again after a delay (the provider's delayed retry, or courier holds it and
    /// releases it when the delay has passed).
    retry,
    /// Given back unhandled, for immediate redelivery: messages not started at shutdown,
    /// handlers cancelled by a forced stop, the rest of a FIFO group after a failure.
    release,
    /// Nothing is done: the provider's own redelivery brings it back, after its visibility
    /// timeout; a provider without one gets it back after `route_options::leave_delay`.
    leave,
};

/// "ack", "retry", "release" or "leave".
std::string_view to_string(settlement s) noexcept;

/// Thrown by a handler to acknowledge the message without running the error handler, for
/// a message that is obsolete or can never succeed.
class delete_message : public std::runtime_error
{
public:
    explicit delete_message(const std::string& reason = "handler asked to delete the message")
        : std::runtime_error(reason)
    {
    }
};

/// Thrown by a handler to have the message delivered again after `delay`, without running
/// the error handler (a dependency said "try again in 30 s").
class retry_message : public std::runtime_error
{
public:
    explicit retry_message(std::chrono::milliseconds delay,
                           const std::string& reason = "handler asked to retry the message")
        : std::runtime_error(reason),
          delay_(delay)
    {
    }
    std::chrono::milliseconds delay() const noexcept { return delay_; }

private:
    std::chrono::milliseconds delay_;
};

/// Thrown by a handler to leave the message to the provider's redelivery (its visibility
/// timeout, then the redrive policy), without running the error handler: a message this
/// process cannot handle but another might (an event name it does not know).
class leave_message : public std::runtime_error
{
public:
    explicit leave_message(const std::string& reason = "handler left the message")
        : std::runtime_error(reason)
    {
    }
};

} // namespace courier

#endif
