// Runs one route on its own strand (its provider's executor, where it has one): opens the
// provider, then the receive loop, the workers that handle and settle each message, the
// heartbeat, and the route's part of the two-phase shutdown. The parts live in their own
// files; this one wires them and owns their state.
//
// All members are touched on `strand_` only; `stop()` and `stop_now()` post there.
#ifndef COURIER_SRC_CORE_ROUTE_RUNNER_HPP
#define COURIER_SRC_CORE_ROUTE_RUNNER_HPP

#include "core/delivery_counts.hpp"
#include "core/fifo_groups.hpp"
#include "core/in_flight.hpp"
#include "core/receiver.hpp"
#include "core/room.hpp"
#include "core/route_log.hpp"
#include "core/settlement_plan.hpp"
#include "core/worker_pool.hpp"
#include "detail/async_event.hpp"
#include "metrics/route_metrics.hpp"

#include <courier/dispatcher.hpp>
#include <courier/error.hpp>
#include <courier/route.hpp>

#include <boost/asio/cancellation_signal.hpp>

#include <memory>
#include <optional>
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

class route_runner final : public std::enable_shared_from_this<route_runner>,
                           private message_sink,
                           private ack_confirmation
{
public:
    route_runner(boost::asio::any_io_executor executor, const route& r, const dispatch_shared& shared);

    /// Runs the route until stopped and drained. Must be spawned on `executor()`.
    boost::asio::awaitable<stop_kind> run();
    void stop();
    void stop_now();
    const boost::asio::any_io_executor& executor() const noexcept { return strand_; }
    const route& served() const noexcept { return route_; }
    /// Histograms, messages in flight and health, for a scrape or a probe (any thread).
    const metrics::route_metrics& metrics() const noexcept { return metrics_; }

private:
    using entry = in_flight_table::entry;
    using pool = worker_pool<entry>;

    void received(message&& msg, clock::time_point received_at) override;
    void failed_for_good(std::exception_ptr error) override;
    void confirmed(in_flight_message& m, std::exception_ptr error) noexcept override;

    boost::asio::awaitable<bool> open_provider();
    void start_loops();
    boost::asio::awaitable<void> work(pool::worker& w);
    boost::asio::awaitable<void> batch_work(pool::worker& w);
    boost::asio::awaitable<void> gather_batch(pool::worker& w, std::vector<entry>& batch);
    handling_result outcome_of(std::exception_ptr failure, const context& ctx);
    error_action error_handler_decision(const context& ctx, std::exception_ptr error);
    void handler_finished(const message& msg, clock::duration took) noexcept;
    boost::asio::awaitable<void> provider_call(const message& msg, const settlement_plan& plan);
    bool settle_at_once(entry e, const settlement_plan& plan);
    void settle_without_waiting(entry e, const settlement_plan& plan);
    boost::asio::awaitable<void> call_then_settle(entry e, settlement_plan plan);
    boost::asio::awaitable<void> hold_then_release(entry e, settlement_plan plan);
    void settled(entry e, const settlement_plan& plan, std::exception_ptr failure) noexcept;
    boost::asio::awaitable<stop_kind> shut_down();
    void loop_ended(std::string_view what, std::exception_ptr error);
    // A hook must not throw; one that does is logged, not let into the engine.
    template <class Hook, class... Args> void call_hook(const Hook& hook, const message& msg, Args&&... args) noexcept
    {
        try
        {
            hook(std::string_view(route_.name()), msg, std::forward<Args>(args)...);
        }
        catch (...)
        {
            log_(log_level::error, msg, "a hook threw: {}", error_text(std::current_exception()));
        }
    }

    boost::asio::any_io_executor inner_;  // the dispatcher's: under a strand of the route's own; yielded through
    boost::asio::any_io_executor strand_; // the provider's executor, or see make_serial
    const route& route_;
    const dispatch_shared& shared_;
    route_log log_;
    route_counters& counters_;
    room room_;
    in_flight_table messages_;
    fifo_groups<entry> groups_;
    pool workers_;
    provider_capabilities capabilities_;
    settlement_capabilities settles_;
    std::optional<delivery_counts> delivery_counts_; // for providers that do not count
    const route_hooks& hooks_;
    metrics::route_metrics metrics_;
    // Read the clock around each handler and acknowledgement: for the histograms, or for a
    // `handled` hook's duration. Off by default: no clock reads per message.
    bool measure_ = false;
    std::exception_ptr permanent_failure_; // what stopped the route for good
    async_event changed_;                  // a stop, a loop or worker ended, a message settled while stopping
    boost::asio::cancellation_signal receive_cancel_;
    boost::asio::cancellation_signal heartbeat_cancel_;
    bool receiving_ = false;
    bool heartbeating_ = false;
    bool stopping_ = false;
    bool terminal_ = false;
};

} // namespace courier::detail

#endif
