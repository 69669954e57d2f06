// What becomes of a message once its handler is done (or never ran): a pure function of how
// handling ended, whether the route is stopping, and what the provider can do. No I/O, no
// clock: the route runner carries the plan out, and the unit tests check it as a table.
#ifndef COURIER_SRC_CORE_SETTLEMENT_PLAN_HPP
#define COURIER_SRC_CORE_SETTLEMENT_PLAN_HPP

#include <courier/error_handler.hpp>
#include <courier/provider.hpp>
#include <courier/settlement.hpp>

#include <chrono>

namespace courier::detail {

/// How a message's handling ended.
struct handling_result
{
    enum kind
    {
        succeeded,       ///< the handler returned
        deleted,         ///< the handler threw delete_message
        retry_requested, ///< the handler threw retry_message (`delay`)
        failed,          ///< translator or handler failed; `action` is the error handler's decision (or leave,
                         ///< when the handler threw leave_message)
        cancelled,       ///< the handler was cancelled by a forced stop
        not_started,     ///< the route stopped (or its FIFO group failed) before it started
    };
    kind what = not_started;
    error_action action{};              ///< for `failed`
    std::chrono::milliseconds delay{0}; ///< for `retry_requested`
};

/// Where the route is in its life.
struct stop_state
{
    bool stopping = false; ///< a stop began: nothing new starts, nothing is held
    bool terminal = false; ///< a forced stop (stop_now or the deadline)
};

/// What the provider offers that settlement depends on.
struct settlement_capabilities
{
    bool visibility = false;    ///< `visibility_control`: leave means do nothing
    bool delayed_retry = false; ///< `delayed_retry`: the provider delays redelivery itself
};

inline settlement_capabilities settlement_capabilities_of(const provider_capabilities& c) noexcept
{
    return {.visibility = c.visibility != nullptr, .delayed_retry = c.retry != nullptr};
}

/// The provider call that carries a settlement out.
enum class provider_step
{
    ack,               ///< provider::ack (or ack_by_callback::start_ack)
    release,           ///< provider::release
    retry,             ///< delayed_retry::retry(delay)
    leave,             ///< visibility_control::leave
    hold_then_release, ///< courier keeps it in flight for `delay`, then provider::release
};

struct settlement_plan
{
    settlement outcome;                 ///< what the route counts and logs
    provider_step step;                 ///< how the provider is told
    std::chrono::milliseconds delay{0}; ///< for retry and hold_then_release

    friend bool operator==(const settlement_plan&, const settlement_plan&) = default;
};

/// The plan for a message whose handling ended with `result`.
///
/// - Success and `delete_message` ack; so does an error handler's `ack`.
/// - A retry goes to the provider's delayed retry where it has one; otherwise courier holds
///   the message for the delay and releases it, or releases it at once when the route is
///   stopping (nothing is held past a stop) or the delay is zero.
/// - `leave` leaves it to the provider's visibility timeout; a provider without one gets it
///   back after `leave_delay`, held like a retry (at once when stopping).
/// - A cancelled or never started message, and an error handler's `release`, are released.
settlement_plan plan_settlement(const handling_result& result, stop_state stop, settlement_capabilities provider,
                                std::chrono::milliseconds leave_delay) noexcept;

} // namespace courier::detail

#endif
