// One STOMP connection driven by one coroutine: the socket, heart-beats, reconnection, and
// the subscriptions and sends that use it.
//
// `run` loops: connect (through a `broker::connector`, so TLS plugs in), CONNECT/CONNECTED,
// SUBSCRIBE again every subscription, then reader, writer and heart-beat loops in parallel
// until the connection fails; then a backoff sleep on courier::clock and again. Each
// successful CONNECTED starts a new *generation*. A delivery remembers its generation, and an
// ACK or NACK for an older one is never sent (errc::stale_receipt): the broker already gave
// the message back when that connection died. Deliveries buffered but not yet received are
// dropped at a disconnect for the same reason.
//
// Heart-beats run on their own timer, so a slow handler never starves them: every byte read
// counts as a sign of life; the broker is taken for dead after twice its negotiated period
// without one.
//
// Thread safety: everything runs on the connection's executor: the one it was given, or a
// strand over it on an io_context that several threads run (detail::make_serial). Callers
// are coroutines there (a provider's route runs there; the client's publishers and close
// hop there themselves).
#ifndef COURIER_SRC_STOMP_CONNECTION_HPP
#define COURIER_SRC_STOMP_CONNECTION_HPP

#include "broker/stream.hpp"
#include "broker/write_progress.hpp"
#include "courier/stomp/options.hpp"
#include "detail/async_event.hpp"
#include "stomp/session.hpp"

#include <boost/asio/cancellation_signal.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace courier::stomp {

/// Which delivery to acknowledge: its connection and its ack id, viewed where they are kept.
struct delivery_id
{
    std::uint64_t generation = 0;
    std::string_view ack_id;
};

/// One MESSAGE, as a subscription hands it out.
struct delivery
{
    std::uint64_t generation = 0; ///< the connection it came on
    std::string ack_id;
    bool redelivered = false;
    frame f; ///< headers and body

    delivery_id id() const noexcept { return {generation, ack_id}; }
};

struct subscription_options
{
    /// "/queue/NAME" (declared durable if missing on RabbitMQ), "/amq/queue/NAME" (must
    /// exist), "/topic/KEY", "/exchange/NAME/KEY".
    std::string destination;
    /// Unacknowledged messages the broker may hand out at once (`prefetch-count`).
    /// Must be at least 1: an unlimited prefetch buffers a whole queue in memory.
    std::size_t prefetch = 10;
    /// More SUBSCRIBE headers (`durable`, `auto-delete`, `x-queue-type`, ...).
    header_list headers;
};

class connection;

/// A subscription's deliveries, bounded by its prefetch.
class subscription
{
public:
    /// Up to `max` buffered deliveries; waits up to `wait` (on the connection's clock) for
    /// the first. Any cancellation (total too) ends the wait with `operation_aborted`.
    /// Throws `courier::error` (errc::provider_closed) once the connection is closed or the
    /// subscription cancelled.
    boost::asio::awaitable<std::vector<delivery>> receive(std::size_t max, std::chrono::milliseconds wait);
    /// Waits as `receive` does, then returns how many deliveries are buffered (0 when `wait`
    /// passed): take them one by one with `front` and `pop_front`, with no vector between.
    boost::asio::awaitable<std::size_t> wait_for_deliveries(std::chrono::milliseconds wait);
    /// The oldest buffered delivery; there must be one.
    delivery& front();
    void pop_front();
    /// ACK / NACK (the broker requeues a NACKed message). Complete once written to the socket.
    /// Throws errc::stale_receipt for a delivery of an earlier connection (nothing is sent),
    /// errc::transport_failed if the connection drops before the frame is written.
    /// `d` views its ack id, which must stay alive until the call completes.
    boost::asio::awaitable<void> ack(delivery_id d);
    /// ACK, without waiting, of the delivery `parse(msg)` names (the receipt is the
    /// provider's): `listener.acked(msg, error)` is called once it is written, or with the
    /// error when it cannot be (at once for a receipt `parse` refuses, or a stale one). `msg`
    /// and `listener` stay alive until then.
    void start_ack(const message& msg, ack_listener& listener, delivery_id (*parse)(const message&));
    /// `requeue` false: RabbitMQ dead-letters it (the queue's dead-letter exchange) or drops it.
    boost::asio::awaitable<void> nack(delivery_id d, bool requeue = true);
    /// NACKs at once what is buffered and keeps what the broker sends later buffered (for
    /// `cancel`), while the subscription stays: RabbitMQ requeues a subscription's
    /// unacknowledged messages at UNSUBSCRIBE, those whose handlers still run included, so a
    /// graceful stop unsubscribes only once they are settled. Idempotent.
    void give_back_buffered();
    /// UNSUBSCRIBE, for good: not subscribed again after a reconnection. Buffered deliveries
    /// are NACKed first; RabbitMQ requeues the rest of the subscription's unacknowledged
    /// messages itself (those sent before it saw the UNSUBSCRIBE, and those taken and not yet
    /// acknowledged, whose ACK it then refuses). Idempotent.
    void cancel();
    const std::string& id() const noexcept;

private:
    friend class connection;
    struct state;
    subscription(std::shared_ptr<connection> c, std::shared_ptr<state> s)
        : connection_(std::move(c)),
          state_(std::move(s))
    {
    }
    std::shared_ptr<connection> connection_;
    std::shared_ptr<state> state_;
};

class connection : public std::enable_shared_from_this<connection>
{
public:
    connection(boost::asio::any_io_executor executor, connection_options options,
               broker::connector connect = broker::connect_tcp);
    ~connection();

    /// Starts the connection coroutine. Call once.
    void start();
    /// DISCONNECT with a receipt (up to connect_timeout), then stops the coroutine and fails
    /// every waiter with errc::provider_closed. Idempotent.
    boost::asio::awaitable<void> close();
    /// Stops at once, without DISCONNECT (the broker requeues what is unacknowledged).
    /// Call on the connection's executor. Idempotent.
    void stop() noexcept;

    /// Adds a subscription; it is (re)sent at every (re)connection. Throws
    /// errc::bad_configuration for a prefetch of 0 or an empty destination.
    std::shared_ptr<subscription> subscribe(subscription_options options);

    /// SEND with a receipt: returns once the broker confirmed it. Waits for a connection and
    /// sends again after a reconnect, up to `publish_timeout`; an ERROR frame answering it
    /// (by its receipt, or without one while it waits) fails it with the broker's message
    /// (errc::server_error).
    boost::asio::awaitable<void> send(std::string destination, std::string body, header_list headers);

    const boost::asio::any_io_executor& executor() const noexcept { return executor_; }
    bool connected() const noexcept { return connected_; }
    /// Incremented at every successful CONNECTED; 0 before the first.
    std::uint64_t generation() const noexcept { return generation_; }
    /// For logs: stomp://user:***@host:port/vhost.
    const std::string& name() const noexcept { return name_; }
    const connection_options& options() const noexcept { return options_; }
    const std::shared_ptr<courier::clock>& clock() const noexcept { return clock_; }

private:
    friend class subscription;
    struct send_waiter;

    boost::asio::awaitable<void> run();
    boost::asio::awaitable<void> connect_once();
    /// Runs one of the reader, writer and heartbeat loops; when it ends, ends the other two.
    boost::asio::awaitable<void> linked(boost::asio::awaitable<void> part);
    void fail_link() noexcept;
    boost::asio::awaitable<void> reader();
    boost::asio::awaitable<void> writer();
    boost::asio::awaitable<void> heartbeats();
    void handle(session_event& e);
    void drop_connection(const std::exception_ptr& why);
    enum class settle_kind
    {
        ack,
        requeue,
        drop
    };
    /// Queues ACK or NACK for `d`; returns the write mark it is done at. Throws
    /// errc::stale_receipt for a delivery of an earlier connection.
    std::uint64_t queue_settlement(delivery_id d, settle_kind how);
    boost::asio::awaitable<void> settle(delivery_id d, settle_kind how);
    boost::asio::awaitable<void> wait_for(detail::async_event& event, courier::clock::time_point deadline);
    void wake() { write_event_.notify(); }

    boost::asio::any_io_executor executor_;
    connection_options options_;
    broker::connector connect_;
    std::shared_ptr<courier::clock> clock_;
    std::string name_;
    std::optional<session> session_;
    std::unique_ptr<broker::byte_stream> stream_;
    std::uint64_t generation_ = 0;
    bool connected_ = false;
    bool closing_ = false;
    bool link_failed_ = false;
    bool stopped_ = false;
    std::optional<courier::error> ending_; // the reader saw the end; the writer flushes, then throws it
    bool disconnected_ = false;            // DISCONNECT's receipt came
    std::chrono::milliseconds send_every_{0}, receive_every_{0};
    courier::clock::time_point last_read_{}, last_write_{};
    broker::write_progress progress_;
    detail::async_event write_event_;   // output waiting, or an ending
    detail::async_event state_event_;   // connected / disconnected / closed
    detail::async_event written_event_; // a write completed
    detail::async_event never_;         // a wait only cancellation ends
    std::map<std::string, std::shared_ptr<subscription::state>, std::less<>> subscriptions_;
    std::map<std::uint64_t, send_waiter*> sends_;
    std::size_t next_subscription_ = 1;
    boost::asio::cancellation_signal stop_;
    bool running_ = false;
};

} // namespace courier::stomp

#endif
