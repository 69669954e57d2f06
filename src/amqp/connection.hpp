// One AMQP 0-9-1 connection driven by one coroutine: the socket, heartbeats, reconnection,
// the declared topology, consumers and confirmed publishing.
//
// `run` loops like the STOMP connection's (see stomp/connection.hpp): connect through a
// `broker::connector`, handshake, then reader, writer and heartbeat loops until the
// connection fails, then a backoff sleep on courier::clock. After every (re)connection it
// opens channel 1 in confirm mode, declares again every exchange, queue and binding declared
// so far, and opens one channel per subscription with basic.qos (the subscription's
// prefetch, never unlimited) and basic.consume.
//
// A delivery remembers the channel *epoch* it came on (a new one at every channel opening).
// An ack, nack or reject for a delivery whose channel is gone is never sent (errc::
// stale_receipt): the broker requeued the message when the channel or connection closed,
// and a delivery tag of a dead channel would close the new one (406 PRECONDITION_FAILED).
//
// Thread safety: everything runs on the connection's executor: the one it was given, or a
// strand over it on an io_context that several threads run (detail::make_serial). Callers
// are coroutines there (a provider's route runs there; the client's publishers and close
// hop there themselves).
#ifndef COURIER_SRC_AMQP_CONNECTION_HPP
#define COURIER_SRC_AMQP_CONNECTION_HPP

#include "amqp/session.hpp"
#include "broker/stream.hpp"
#include "broker/write_progress.hpp"
#include "courier/amqp/options.hpp"
#include "detail/async_event.hpp"

#include <boost/asio/cancellation_signal.hpp>

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <vector>

namespace courier::amqp {

struct delivery
{
    std::uint64_t epoch = 0; ///< the channel opening it came on
    std::uint16_t channel = 0;
    method::basic_deliver deliver; ///< delivery tag, redelivered, exchange, routing key
    properties props;
    std::string body;
};

struct subscription_options
{
    std::string queue;
    /// basic.qos prefetch-count: unacknowledged deliveries at once, 1..65535 (unlimited
    /// is refused: it buffers a whole queue in memory).
    std::size_t prefetch = 10;
    field_table arguments; ///< basic.consume arguments (x-priority, ...)
};

class connection;

class subscription
{
public:
    /// Up to `max` deliveries; waits up to `wait` for the first. Any cancellation (total
    /// too) ends the wait with `operation_aborted`; nothing is lost, what arrives stays
    /// buffered. Throws `courier::error`: errc::provider_closed once closed or cancelled;
    /// once, the broker's error when it closed the consumer's channel or cancelled the
    /// consumer (the next call subscribes again).
    boost::asio::awaitable<std::vector<delivery>> receive(std::size_t max, std::chrono::milliseconds wait);
    /// Waits as `receive` does, then returns how many deliveries are buffered (0 when `wait`
    /// passed): take them one by one with `front` and `pop_front`, with no vector between.
    boost::asio::awaitable<std::size_t> wait_for_deliveries(std::chrono::milliseconds wait);
    /// The oldest buffered delivery; there must be one.
    delivery& front();
    void pop_front();
    /// basic.ack / basic.nack (requeue or not). Complete once written; errc::stale_receipt
    /// (nothing sent) when the delivery's channel is gone.
    boost::asio::awaitable<void> ack(const delivery& d);
    boost::asio::awaitable<void> nack(const delivery& d, bool requeue);
    /// basic.ack, without waiting, of the delivery `parse(msg)` names (the receipt is the
    /// provider's): `listener.acked(msg, error)` is called once it is written, or with the
    /// error when it cannot be (at once for a receipt `parse` refuses, or a stale one). `msg`
    /// and `listener` stay alive until then.
    void start_ack(const message& msg, ack_listener& listener, delivery (*parse)(const message&));
    /// Stops consuming (basic.cancel) for good: not started again after a reconnection.
    /// Buffered deliveries, and those the broker still sends before it has seen the cancel,
    /// are given back at once (basic.nack with requeue). Deliveries already taken can still
    /// be acknowledged. Idempotent.
    void cancel();

    /// A delivery's identity from its receipt fields (what ack and nack need).
    static delivery settled(std::uint64_t epoch, std::uint16_t channel, std::uint64_t delivery_tag)
    {
        delivery d;
        d.epoch = epoch;
        d.channel = channel;
        d.deliver.delivery_tag = delivery_tag;
        return d;
    }

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

/// What a confirmed publish came to.
struct publish_args
{
    std::string exchange;
    std::string routing_key;
    bool mandatory = true; ///< unroutable messages come back (basic.return) and fail the publish
    properties props;      ///< message_id is set when empty
    std::string body;
};

class connection : public std::enable_shared_from_this<connection>
{
public:
    connection(boost::asio::any_io_executor executor, connection_options options,
               broker::connector connect = broker::connect_tcp);
    ~connection();

    void start();
    /// connection.close (up to connect_timeout for close-ok), then stops. Idempotent.
    boost::asio::awaitable<void> close();
    /// Stops at once; the broker requeues what is unacknowledged. On the executor. Idempotent.
    void stop() noexcept;

    /// Declares now (waiting for the -ok) and again after every reconnection. The broker's
    /// refusal (e.g. 406 PRECONDITION_FAILED for a queue declared before with other
    /// arguments) is thrown as `courier::error` and the declaration is not kept.
    boost::asio::awaitable<void> declare_exchange(exchange_declare_args a);
    boost::asio::awaitable<void> declare_queue(queue_declare_args a);
    /// declare_queue; but a queue that exists with other arguments (another client declared
    /// it, 406 PRECONDITION_FAILED) is used as it is: logged, and checked passively.
    boost::asio::awaitable<void> declare_or_use_queue(queue_declare_args a);
    boost::asio::awaitable<void> bind_queue(std::string queue, std::string exchange, std::string routing_key,
                                            field_table arguments = {});

    /// Adds a consumer; it is (re)started at every (re)connection. Throws
    /// errc::bad_configuration for an empty queue or a prefetch outside 1..65535.
    std::shared_ptr<subscription> subscribe(subscription_options options);

    /// basic.publish on the confirm channel; returns when the broker confirmed it. Waits for
    /// a connection and while the broker blocks publishing, and publishes again after a
    /// reconnect, up to publish_timeout (errc::transport_failed, or errc::throttled while
    /// blocked). A basic.return (unroutable, mandatory) or a basic.nack fails it with
    /// errc::server_error.
    boost::asio::awaitable<void> publish(publish_args a);

    const boost::asio::any_io_executor& executor() const noexcept { return executor_; }
    bool connected() const noexcept { return connected_; }
    std::uint64_t generation() const noexcept { return generation_; }
    /// True while the broker blocks publishing (connection.blocked, e.g. a memory alarm).
    bool blocked() const noexcept { return blocked_; }
    const std::string& blocked_reason() const noexcept { return blocked_reason_; }
    const std::string& name() const noexcept { return name_; }
    const connection_options& options() const noexcept { return options_; }
    const std::shared_ptr<courier::clock>& clock() const noexcept { return clock_; }

private:
    friend class subscription;
    struct rpc;
    struct confirm_waiter;
    struct declaration;
    struct expected_reply
    {
        rpc* waiter = nullptr;          ///< null: a redeclaration or confirm.select of our own
        std::size_t topology_index = 0; ///< the redeclaration's entry in topology_, or npos
    };
    /// Declarations and publishing use channel 1; consumers get 2 and up.
    static constexpr std::uint16_t control_channel = 1;

    boost::asio::awaitable<void> run();
    boost::asio::awaitable<void> connect_once();
    /// Runs one of the reader, writer and heartbeat loops; when it ends, ends the other two.
    boost::asio::awaitable<void> linked(boost::asio::awaitable<void> part);
    void fail_link() noexcept;
    boost::asio::awaitable<void> reader();
    boost::asio::awaitable<void> writer();
    boost::asio::awaitable<void> heartbeats();
    void handle(session_event& e);
    void on_channel_opened(std::uint16_t channel);
    void on_channel_closed(std::uint16_t channel, const std::optional<courier::error>& error);
    void on_method_ok(method_ok_event& e);
    void on_delivery(delivery_event& e);
    void on_confirm(std::uint64_t sequence, bool ack);
    void on_return(return_event& e);
    void on_consumer_cancelled(std::uint16_t channel);
    void start_consuming(subscription::state& s);
    /// Forgets the consumer's channel and buffered deliveries; `error` is what its next
    /// receive throws.
    void reset_consumer(subscription::state& s, std::optional<courier::error> error);
    /// Fails every reply expected on channel 1.
    void fail_replies(const courier::error& e);
    void drop_connection(const std::exception_ptr& why);
    boost::asio::awaitable<void> declare(declaration d);
    /// Queues basic.ack or basic.nack for `d`; returns the write mark it is done at. Throws
    /// errc::stale_receipt when its channel is gone.
    std::uint64_t queue_settlement(const delivery& d, int how);
    boost::asio::awaitable<void> settle(const delivery& d, int how);
    boost::asio::awaitable<void> wait_for(detail::async_event& event, courier::clock::time_point deadline);
    bool control_ready() const noexcept;
    void wake() { write_event_.notify(); }

    boost::asio::any_io_executor executor_;
    connection_options options_;
    broker::connector connect_;
    std::shared_ptr<courier::clock> clock_;
    std::string name_;
    std::optional<session> session_;
    std::unique_ptr<broker::byte_stream> stream_;
    std::uint64_t generation_ = 0;
    std::uint64_t epoch_ = 0;         // channel openings, all channels
    std::uint64_t control_epoch_ = 0; // openings of channel 1
    bool control_confirming_ = false; // confirm.select-ok came on channel 1
    bool connected_ = false, closing_ = false, stopped_ = false, running_ = false, link_failed_ = false;
    std::atomic<bool> blocked_ = false; // read by client::blocked() from any thread
    std::string blocked_reason_;
    std::optional<courier::error> ending_;
    std::chrono::milliseconds heartbeat_{0};
    courier::clock::time_point last_read_{}, last_write_{};
    broker::write_progress progress_;
    detail::async_event write_event_, state_event_, written_event_, never_;
    std::vector<declaration> topology_;
    std::deque<expected_reply> replies_; // expected on channel 1, in order
    std::map<std::uint64_t, confirm_waiter*> confirms_;
    std::map<std::uint16_t, std::shared_ptr<subscription::state>> consumers_; // by channel
    std::vector<std::shared_ptr<subscription::state>> subscriptions_;
    std::uint16_t next_channel_ = 2;
    boost::asio::cancellation_signal stop_;
};

} // namespace courier::amqp

#endif
