// How a broker provider (AMQP 0-9-1 or STOMP, on RabbitMQ) delays retries and dead-letters
// messages that keep failing.
//
// A broker cannot hide one message for a while, so a retry after a delay is a copy of the
// message published (with a publisher confirm, or a STOMP receipt) to a retry queue,
// `<queue>.retry.<delay>`, whose messages expire after that delay (`x-message-ttl`) and are
// then dead-lettered by the broker back to the source queue (`x-dead-letter-exchange` "",
// `x-dead-letter-routing-key` <queue>). Only once the copy is confirmed is the original
// acknowledged: a crash in between makes a duplicate, never a loss. Every message of one
// retry queue waits as long, so they expire in order at its head. The copy carries the
// deliveries so far in a header (`x-courier-deliveries`), which is how `receive_count` counts
// on classic queues; quorum queues add their own `x-delivery-count`.
#ifndef COURIER_BROKER_RETRY_POLICY_HPP
#define COURIER_BROKER_RETRY_POLICY_HPP

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace courier::broker {

/// Retries and dead-lettering of a broker provider.
struct retry_policy
{
    /// The delays a retry can wait, one retry queue each (declared when first used). A retry
    /// waits the shortest of them that is not shorter than asked, or the longest if all
    /// are: with the defaults `retry_with_backoff`'s 15-minute cap becomes 30 minutes.
    std::vector<std::chrono::milliseconds> buckets{
        std::chrono::seconds(1), std::chrono::seconds(5),  std::chrono::seconds(15), std::chrono::seconds(60),
        std::chrono::minutes(5), std::chrono::minutes(30), std::chrono::hours(2)};
    /// Deliveries after which a message that fails again (a retry, or a `leave` of the
    /// default error handler, which a broker carries out as a retry) goes to the dead-letter
    /// destination instead. 0: never, it is retried for as long as its handler fails.
    std::uint32_t max_attempts = 0;
    /// The dead-letter destination: a queue (declared durable if missing) the message is
    /// copied to, confirmed, before the original is acknowledged. Empty: the source queue's
    /// own dead-letter exchange (the message is rejected without requeue; RabbitMQ drops it
    /// if the queue has no `x-dead-letter-exchange`, by argument or policy).
    std::string dead_letter_queue{};
};

} // namespace courier::broker

#endif
