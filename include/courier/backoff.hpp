// Exponential backoff with jitter, and the error handler that retries with it.
#ifndef COURIER_BACKOFF_HPP
#define COURIER_BACKOFF_HPP

#include <courier/error_handler.hpp>

#include <chrono>
#include <cstdint>
#include <functional>

namespace courier {

/// Exponential backoff with jitter, keyed on the delivery number.
struct backoff_options
{
    /// Delay after the first failed delivery.
    std::chrono::milliseconds base{std::chrono::seconds(1)};
    /// Upper bound of the delay.
    std::chrono::milliseconds max{std::chrono::minutes(15)};
    /// Randomize each delay within [d/2, d] so failed messages do not come back in lockstep.
    bool jitter = true;
};

/// The delay before delivery number `receive_count + 1`: base * 2^(receive_count - 1),
/// capped at `max`, jittered as configured. `random01` yields values in [0, 1).
std::chrono::milliseconds backoff_delay(const backoff_options& options, std::uint32_t receive_count,
                                        const std::function<double()>& random01 = {});

/// An error handler that retries every failure after `backoff_delay` of the message's
/// `receive_count`, and logs it. It works on every provider: where a provider does not count
/// deliveries the dispatcher does (see `message::receive_count`), and where it cannot delay a
/// redelivery the dispatcher holds the message for the delay (see `delayed_retry`).
error_handler retry_with_backoff(backoff_options options = {});

} // namespace courier

#endif
