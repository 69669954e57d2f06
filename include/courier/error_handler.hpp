// The error handler: what a route does when translating or handling a message failed.
//
// It gets the message's context and the exception, and returns an `error_action`: a
// settlement (settlement.hpp) and, for a retry, its delay. Without an error handler the
// failure is logged and the message left: never lost, never retried in a tight loop.
#ifndef COURIER_ERROR_HANDLER_HPP
#define COURIER_ERROR_HANDLER_HPP

#include <courier/context.hpp>
#include <courier/settlement.hpp>

#include <chrono>
#include <concepts>
#include <cstddef>
#include <exception>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>

namespace courier {

/// The decision of an error handler.
struct error_action
{
    settlement what = settlement::leave;
    /// For `settlement::retry`: how long until the message is delivered again.
    std::chrono::milliseconds delay{0};

    /// Delivered again after `d`.
    static error_action retry_after(std::chrono::milliseconds d) { return {settlement::retry, d}; }
    /// Deleted: the error is final and the message is not wanted.
    static error_action ack() { return {settlement::ack, {}}; }
    /// Left to the provider's redelivery (its visibility timeout, the dead-letter queue's
    /// redrive policy counting the attempts).
    static error_action leave() { return {settlement::leave, {}}; }
    /// Given back for immediate redelivery.
    static error_action release() { return {settlement::release, {}}; }

    friend bool operator==(const error_action&, const error_action&) = default;
};

/// Called with the context and the exception when translation or handling failed. It runs
/// on the route's strand and must not block. An exception it throws is logged and the
/// message left. Empty: log the failure and leave the message.
///
/// Any callable `error_action(const courier::context&, std::exception_ptr)` converts to it;
/// another shape is refused with one message saying which shape is expected.
class error_handler
{
public:
    using signature = error_action(const context&, std::exception_ptr);

    error_handler() = default;
    error_handler(std::nullptr_t) noexcept {}

    template <class F>
    requires(!std::same_as<std::remove_cvref_t<F>, error_handler> &&
             !std::same_as<std::remove_cvref_t<F>, std::nullptr_t>) error_handler(F&& f)
        : fn_(checked(std::forward<F>(f)))
    {
    }

    explicit operator bool() const noexcept { return static_cast<bool>(fn_); }
    error_action operator()(const context& ctx, std::exception_ptr error) const { return fn_(ctx, std::move(error)); }

private:
    template <class F> static std::function<signature> checked(F&& f)
    {
        constexpr bool fits =
            std::is_invocable_r_v<error_action, std::remove_cvref_t<F>&, const context&, std::exception_ptr>;
        static_assert(fits, "courier: an error handler must be callable as "
                            "courier::error_action(const courier::context&, std::exception_ptr), and return what "
                            "becomes of the message (error_action::retry_after(d), ack(), leave() or release())");
        // Only then: std::function's own complaint would bury the one above.
        if constexpr (fits)
            return std::function<signature>(std::forward<F>(f));
        else
        {
            (void)f;
            return {};
        }
    }

    std::function<signature> fn_;
};

/// The text of `error` for a line logged through `ctx` (which already names the route and
/// the message): a `courier::error` without its route and message id, anything else as
/// `error_text` gives it.
std::string error_text(std::exception_ptr error, const context& ctx);

/// True if `error` is a translation failure (the body could not be turned into the
/// handler's type): retrying will not help, so error handlers usually ack it or leave it
/// for the dead-letter queue.
bool is_translation_error(std::exception_ptr error);

} // namespace courier

#endif
