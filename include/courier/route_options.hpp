// The settings of one route.
#ifndef COURIER_ROUTE_OPTIONS_HPP
#define COURIER_ROUTE_OPTIONS_HPP

#include <courier/error_handler.hpp>

#include <chrono>
#include <cstddef>

namespace courier {

/// Per-route settings, as an aggregate: set what you need with designated initializers.
/// Defaults suit most queues.
struct route_options
{
    /// Messages of this route in flight at once: being handled, waiting behind their FIFO
    /// group, held for a retry, or being acknowledged. The provider is asked for more only
    /// when there is room.
    std::size_t max_in_flight = 10;
    /// Most messages asked for per `receive`; a provider may return fewer (SQS returns at
    /// most 10 per request).
    std::size_t receive_batch = 10;
    /// Decides what happens after a failure; empty = log the error and leave the message.
    error_handler on_error{};
    /// Keep a long-running handler's message hidden by extending its visibility every third
    /// of the provider's visibility timeout. Only on providers that have one.
    bool heartbeat = true;
    /// Pause before receiving again after `receive` (or `open`) failed, doubled up to 30 s.
    std::chrono::milliseconds receive_error_backoff{std::chrono::milliseconds(200)};
    /// On a provider without a visibility timeout (a broker), how long a left message is held
    /// before it is given back; a provider with one brings it back after its timeout.
    std::chrono::milliseconds leave_delay{std::chrono::seconds(30)};
};

} // namespace courier

#endif
