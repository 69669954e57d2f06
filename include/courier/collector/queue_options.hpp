// Settings and counters of a collector queue.
#ifndef COURIER_COLLECTOR_QUEUE_OPTIONS_HPP
#define COURIER_COLLECTOR_QUEUE_OPTIONS_HPP

#include <courier/clock.hpp>
#include <courier/logger.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace courier::event_collector {

/// The order in which waiting payloads are handed to consumers. With several consumers
/// (or processors that wait), collectors may still finish them in another order.
enum class queue_type
{
    fifo,     ///< first sent, first processed
    lifo,     ///< last sent, first processed
    priority, ///< lowest `priority` first (as Python's PriorityQueue); ties in send order
};

/// How a collector queue runs. Defaults suit a handful of I/O-bound collectors.
struct collector_queue_options
{
    /// Names the queue in log lines and errors.
    std::string name = "collectors";
    /// Consumers kept even when idle (at least 1).
    std::size_t min_consumers = 1;
    /// Most consumers, i.e. payloads processed at once (at least `min_consumers`).
    std::size_t max_consumers = 10;
    event_collector::queue_type queue_type = event_collector::queue_type::fifo;
    /// The priority of a payload that names none (`queue_type::priority` only).
    int default_priority = 0;
    /// Most payloads waiting for a consumer; `send` waits while that many do
    /// (back-pressure). 0 = unbounded, as the seed's queue.
    std::size_t capacity = 0;
    /// A consumer above `min_consumers` that has had nothing to do for this long stops.
    std::chrono::milliseconds consumer_idle_timeout{std::chrono::seconds(30)};
    /// Time source of the idle timeout; null = real time.
    std::shared_ptr<courier::clock> clock;
    /// Where starts, stops, scaling and failed lifecycles are logged (the queue's name in
    /// the route field).
    courier::logger log{};
};

/// Counters of a collector queue: a snapshot, readable from any thread.
struct collector_queue_stats
{
    std::uint64_t sent = 0;          ///< payloads accepted by `send`
    std::uint64_t completed = 0;     ///< events completed (processed or cancelled)
    std::uint64_t cancelled = 0;     ///< events completed by an immediate stop
    std::uint64_t unrouted = 0;      ///< payloads that matched no collector
    std::uint64_t errors = 0;        ///< Error results (processor errors and cancellations)
    std::size_t queued = 0;          ///< payloads waiting for a consumer
    std::size_t blocked_senders = 0; ///< sends waiting for room (capacity)
    std::size_t consumers = 0;       ///< consumers running (busy or idle)
    std::size_t busy_consumers = 0;  ///< consumers processing a payload
    std::size_t consumers_peak = 0;  ///< most consumers at once so far
};

} // namespace courier::event_collector

#endif
