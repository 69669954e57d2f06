// Runs one route on its own strand: the receive loop, a pool of worker coroutines that
// handle and settle messages, the heartbeat loop, and the route's part of the graceful
// shutdown.
//
// All members are touched on `strand_` only; `stop()` and `stop_now()` post there.
#ifndef COURIER_SRC_ROUTE_RUNNER_HPP
#define COURIER_SRC_ROUTE_RUNNER_HPP

#include "detail/async_event.hpp"
#include "detail/async_semaphore.hpp"
#include "detail/serial_executor.hpp"

#include <courier/dispatcher.hpp>
#include <courier/route.hpp>

#include <boost/asio/cancellation_signal.hpp>

#include <deque>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace courier::detail {

/// What the runners of one dispatcher share.
struct dispatch_shared
{
    const dispatcher_options& options;
    std::shared_ptr<courier::clock> clock;
    boost::asio::any_io_executor blocking_executor;
    async_semaphore* global_slots; // null without a global limit
};

class route_runner : public std::enable_shared_from_this<route_runner>
{
public:
    route_runner(boost::asio::any_io_executor executor, const route& r, const dispatch_shared& shared);

    /// Runs the route until stopped and drained. Runs on (and must be spawned on) `executor()`.
    boost::asio::awaitable<stop_kind> run();
    void stop();
    void stop_now();
    const boost::asio::any_io_executor& executor() const { return strand_; }

private:
    // A message between receive and settlement. It is also the listener of its own
    // acknowledgement when the provider settles by callback (provider::start_ack).
    struct in_flight final : ack_listener
    {
        void acked(const message& m, std::exception_ptr error) noexcept override;

        message msg;
        clock::time_point received_at;
        route_runner* runner = nullptr;
        std::list<in_flight>::iterator self; // its own place in entries_
    };
    using entry = std::list<in_flight>::iterator;

    // A coroutine that takes ready messages one after the other. Workers are started on
    // demand (at most max_in_flight) and live until the route stops: a message costs no
    // co_spawn, and a handler that completes without suspending costs no post either.
    struct worker
    {
        async_event wakeup;                        // notified by wake_worker() when idle
        boost::asio::cancellation_signal cancel;   // bound for the worker's whole life
        bool handling = false;                     // inside a handler: stop_now cancels it
        bool cancelled = false;                    // was cancelled: reset before settling
    };

    // How a message's processing ended.
    struct fate
    {
        enum kind { ack, retry, leave, release } what;
        std::chrono::milliseconds delay{0};
    };

    boost::asio::awaitable<void> receive_loop();
    boost::asio::awaitable<void> heartbeat_loop();
    boost::asio::awaitable<void> extend_one(message msg, std::chrono::milliseconds visibility);
    void start(message msg);
    void make_ready(entry e);
    void wake_worker();
    void woken();
    boost::asio::awaitable<void> work(worker& w);
    fate handle_failure(const context& ctx, std::exception_ptr error);
    boost::asio::awaitable<void> settle(const message& msg, fate f);
    boost::asio::awaitable<void> provider_settlement(const message& msg, fate f);
    void leave(const message& msg);
    void settled(const message& msg, fate f);
    void settlement_failed(const message& msg, fate f, std::exception_ptr error);
    void acked(entry e, std::exception_ptr error) noexcept;
    void finish(entry e);
    void release_slots(std::size_t n);
    void note(std::string_view what, std::exception_ptr error);

    boost::asio::any_io_executor inner_;  // what the strand runs on
    boost::asio::any_io_executor strand_; // see make_serial
    const route& route_;
    const dispatch_shared& shared_;
    const logger& log_;
    async_semaphore slots_;
    async_event changed_;
    std::list<in_flight> entries_;
    std::list<in_flight> spare_;      // finished entries' nodes, reused by start()
    std::deque<entry> ready_;         // received (or next in their group), not started
    std::list<worker> workers_;       // stable addresses; destroyed with the runner
    std::vector<worker*> idle_;       // waiting on their wakeup
    std::size_t live_workers_ = 0;    // started and not yet returned
    std::size_t waking_ = 0;          // workers woken or started that have not run yet
    bool wake_all_ = false;           // handlers suspend: wake a worker per ready message
    bool closing_ = false;            // workers return once nothing is ready
    // FIFO groups with a message being handled, and the messages queued behind it.
    std::unordered_map<std::string, std::list<entry>> groups_;
    boost::asio::cancellation_signal receive_cancel_;
    boost::asio::cancellation_signal heartbeat_cancel_;
    bool receiving_ = false;
    bool heartbeating_ = false;
    bool stopping_ = false;
    bool terminal_ = false;
};

} // namespace courier::detail

#endif
