// Hooks: callbacks for what happens to messages, so a team can feed its own metrics or
// tracing system (as sqs-consumer's events do). Set them in `dispatcher_options::hooks`.
#ifndef COURIER_HOOKS_HPP
#define COURIER_HOOKS_HPP

#include <courier/message.hpp>

#include <chrono>
#include <exception>
#include <functional>
#include <string_view>

namespace courier {

/// Each hook is called on the route's strand with the route's name and the message, must
/// not block, and must not throw (an exception is caught and logged). An empty hook costs a
/// test per message.
struct route_hooks
{
    /// A message was received (before it waits for its FIFO group or a worker).
    std::function<void(std::string_view route, const message& msg)> received;
    /// Its handler returned; `took` is the handler's duration (translation included).
    std::function<void(std::string_view route, const message& msg, std::chrono::nanoseconds took)> handled;
    /// Translating or handling it failed (before the error handler decides).
    std::function<void(std::string_view route, const message& msg, std::exception_ptr error)> failed;
    /// The provider confirmed its acknowledgement.
    std::function<void(std::string_view route, const message& msg)> acknowledged;
    /// It was given back unhandled (at shutdown, cancelled, or behind a failed FIFO head).
    std::function<void(std::string_view route, const message& msg)> released;
};

} // namespace courier

#endif
