// The in-memory queue: courier's embedded default provider and the test double users
// reach for when testing their handlers.
//
// It behaves like an SQS queue so code tested against it behaves the same in production: a
// delivery hides the message for the visibility timeout, each delivery gets a new receipt
// and a higher receive count, a message that is not acked comes back when its timeout
// expires, `retry` and `extend` change the visibility (never past `max_visibility` since
// receipt), an optional dead-letter queue takes messages received more than
// `max_receive_count` times, and `receive` long-polls. In FIFO mode a group is locked while
// any of its messages is in flight (retried ones included, until they are visible again),
// and one receive may hand out several messages of a group, in order, as SQS does. All
// waiting uses the injected `courier::clock`, so tests can run on simulated time.
#ifndef COURIER_MEMORY_PROVIDER_HPP
#define COURIER_MEMORY_PROVIDER_HPP

#include <courier/clock.hpp>
#include <courier/logger.hpp>
#include <courier/provider.hpp>
#include <courier/publisher.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace courier {

class memory_provider;

/// Options of an in-memory queue. Defaults match a new SQS queue.
struct memory_queue_options
{
    /// Name used in logs and message ids.
    std::string name = "memory";
    /// How long a delivered message stays hidden (SQS default 30 s).
    std::chrono::milliseconds visibility_timeout{std::chrono::seconds(30)};
    /// The longest a delivery may stay hidden in total since it was received; an extension
    /// past it fails with `errc::visibility_limit` (SQS: 12 hours).
    std::chrono::milliseconds max_visibility{std::chrono::hours(12)};
    /// How long `receive` waits for a message when none is visible (SQS long polling,
    /// at most 20 s there). Zero returns at once.
    std::chrono::milliseconds receive_wait{std::chrono::seconds(20)};
    /// After this many receives, the next receive moves the message to
    /// `dead_letter_queue` instead (SQS redrive policy). Zero disables.
    std::uint32_t max_receive_count = 0;
    /// Where messages go after `max_receive_count` receives.
    std::shared_ptr<memory_provider> dead_letter_queue{};
    /// FIFO: a group is locked while any of its messages is in flight; groups keep their
    /// order.
    bool fifo = false;
    /// Where moves to the dead-letter queue are logged (warning).
    courier::logger log{};
    /// Time source; null means `courier::steady_clock()`.
    std::shared_ptr<courier::clock> clock{};
};

/// Counters of an in-memory queue, for tests and examples.
struct memory_queue_counts
{
    std::size_t visible = 0;          ///< ready to be received
    std::size_t in_flight = 0;        ///< delivered and hidden
    std::size_t delayed = 0;          ///< sent with a delay or retried, not visible yet
    std::uint64_t sent = 0;           ///< messages ever sent
    std::uint64_t deliveries = 0;     ///< deliveries ever made (redeliveries included)
    std::uint64_t acked = 0;          ///< messages deleted by ack
    std::uint64_t stale_receipts = 0; ///< ack/release/retry/extend calls with an outdated receipt
    std::uint64_t dead_lettered = 0;  ///< messages moved to the dead-letter queue
};

/// An in-process queue with SQS semantics; both a provider and a publisher. It declares
/// every capability: visibility with extension, delayed retry, acks confirmed at once by
/// callback, and exact delivery counts.
///
/// Create it with `std::make_shared` (it is shared by producers and routes).
///
/// Thread safety: every member function is safe from any thread. Coroutines waiting in
/// `receive` are woken on their own executor.
class memory_provider final : public provider,
                              public publisher,
                              private visibility_control,
                              private delayed_retry,
                              private ack_by_callback,
                              public std::enable_shared_from_this<memory_provider>
{
public:
    explicit memory_provider(memory_queue_options options = {});
    ~memory_provider() override;

    /// Enqueues a message without suspending; returns its id. Safe from any thread
    /// and from outside any coroutine.
    std::string send(outgoing_message msg);
    /// Convenience: a body with no attributes.
    std::string send(std::string body);

    boost::asio::awaitable<std::string> publish(outgoing_message msg) override;

    std::string name() const override;
    boost::asio::awaitable<std::vector<message>> receive(std::size_t max) override;
    boost::asio::awaitable<void> ack(const message& msg) override;
    boost::asio::awaitable<void> release(const message& msg) override;
    boost::asio::awaitable<void> close() override;
    provider_capabilities capabilities() override;

    /// Makes the message visible again after `delay` (zero: at once).
    boost::asio::awaitable<void> retry(const message& msg, std::chrono::milliseconds delay) override;
    /// Keeps the message hidden for `extension` from now.
    boost::asio::awaitable<void> extend(const message& msg, std::chrono::milliseconds extension) override;
    std::chrono::milliseconds visibility_timeout() const override;
    std::chrono::milliseconds max_visibility() const override;

    /// A snapshot of the counters (expired visibility timeouts are applied first).
    memory_queue_counts counts() const;
    /// True when nothing is visible, delayed or in flight.
    bool empty() const;

private:
    void leave(const message& msg) override;
    void start_ack(const message& msg, ack_listener& listener) override;
    // Deletes the message at once; throws stale_receipt like ack.
    void delete_now(const message& msg);

    struct state;
    std::unique_ptr<state> state_;
};

} // namespace courier

#endif
