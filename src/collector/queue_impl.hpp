// The collector queue's core, as the files that implement it see it: queue_lifecycle.cpp
// (configuration, start, the two stops, teardowns), queue_consumers.cpp (admission,
// consumers and their scaling) and delivery.cpp (running collectors, completing events).
//
// Everything here runs on `strand_` except what the public interface documents as
// callable from anywhere (`try_admit`'s check of the executor, `admit`, `start`, `stop`,
// `abandon`, `stats`), which hops onto it.
#ifndef COURIER_SRC_COLLECTOR_QUEUE_IMPL_HPP
#define COURIER_SRC_COLLECTOR_QUEUE_IMPL_HPP

#include "collector/pending_queue.hpp"
#include "collector/remote_waiter.hpp"
#include "detail/async_event.hpp"
#include "detail/stored_handler.hpp"

#include <courier/collector/detail/queue_core.hpp>

#include <boost/asio/cancellation_signal.hpp>

#include <atomic>
#include <deque>
#include <exception>
#include <list>
#include <span>
#include <string>
#include <vector>

namespace courier::event_collector::detail {

/// Counters are written on the strand only, read anywhere: no read-modify-write needed.
template <class T> void set(std::atomic<T>& counter, T value) noexcept
{
    counter.store(value, std::memory_order_relaxed);
}
template <class T> void bump(std::atomic<T>& counter, T by = 1) noexcept
{
    counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}

/// The exception of a cancelled wait.
std::exception_ptr operation_aborted_error();

/// Fills `out` with what the default router chooses for a payload, in the queue's order.
void select_collectors(const std::vector<erased_collector>& collectors, delivery how,
                       const std::vector<std::string>& keys, const std::vector<std::string>& topics,
                       std::vector<std::size_t>& out);

class queue_impl final : public queue_core, public std::enable_shared_from_this<queue_impl>
{
public:
    queue_impl(boost::asio::any_io_executor executor, std::vector<erased_collector> collectors,
               collector_queue_options options, route_fn router);

    boost::asio::awaitable<void> start() override;
    boost::asio::awaitable<void> stop(bool now) override;
    void abandon() noexcept override;
    bool try_admit(const std::shared_ptr<event_state>& e) override;
    boost::asio::awaitable<void> admit(std::shared_ptr<event_state> e) override;
    boost::asio::awaitable<result_list> deliver(event_state& e, std::vector<std::size_t> which) override;
    const std::vector<erased_collector>& collectors() const noexcept override { return collectors_; }
    collector_queue_stats stats() const noexcept override;
    const boost::asio::any_io_executor& get_executor() const noexcept override { return strand_; }
    const collector_queue_options& options() const noexcept override { return options_; }

private:
    enum class phase
    {
        created,      ///< payloads are taken; nothing runs yet
        starting,     ///< setups running
        start_failed, ///< a setup failed: cancelling what waits, tearing down the others
        running,
        draining, ///< stopping: no more payloads; the waiting ones are finished or cancelled
        stopped,  ///< teardowns done (or start failed)
    };

    struct consumer
    {
        boost::asio::cancellation_signal cancel;
        courier::detail::stored_handler<>* wakeup = nullptr; ///< set while idle
        clock::time_point idle_since{};
        bool busy = false;
        bool woken_for_work = false;
        bool retire = false;
        std::vector<std::size_t> chosen; ///< reused for every payload: no allocation
        std::list<consumer>::iterator self;
    };

    struct blocked_send
    {
        std::shared_ptr<event_state> event;
        std::shared_ptr<remote_waiter<std::exception_ptr>> waiter;
    };

    // Counters written on the strand only (a relaxed load and store, no read-modify-write),
    // read from anywhere.
    struct counters
    {
        std::atomic<std::uint64_t> sent{0}, completed{0}, cancelled{0}, unrouted{0}, errors{0};
        std::atomic<std::size_t> queued{0}, blocked{0}, consumers{0}, busy{0}, peak{0};
    };

    using control_waiter = remote_waiter<std::exception_ptr>;

    // ---- queue_lifecycle.cpp ----
    void validate() const;
    void hop(std::shared_ptr<control_waiter> w, bool start, bool now);
    boost::asio::awaitable<void> run_start();
    boost::asio::awaitable<void> run_stop();
    void begin_immediate_stop();
    boost::asio::awaitable<std::exception_ptr> tear_down();
    void finish_control(std::vector<std::shared_ptr<control_waiter>>& waiters, std::exception_ptr e);
    std::exception_ptr refused() const;
    void log_failure(std::string_view what, std::exception_ptr e) const;

    // ---- queue_consumers.cpp and delivery.cpp ----
    bool has_room() const noexcept;
    bool taking_payloads() const noexcept;
    void admit_here(std::shared_ptr<event_state> e, std::shared_ptr<control_waiter> w);
    void enqueue(std::shared_ptr<event_state> e);
    void admit_blocked();
    void prune_blocked();
    void cancel_waiting(const std::exception_ptr& why);
    void ensure_consumers();
    void spawn_consumer();
    void wake(consumer& c, bool for_work);
    boost::asio::awaitable<void> consume(consumer& c);
    boost::asio::awaitable<void> idle_wait(consumer& c);
    boost::asio::awaitable<void> scale_down();
    void start_consumers();
    boost::asio::awaitable<result> invoke(const erased_collector& c, const void* payload);
    boost::asio::awaitable<void> run_collectors(const void* payload, const std::vector<std::size_t>& which,
                                                result* out);
    std::exception_ptr cancellation_aware(std::exception_ptr e, const std::string& key) const;
    void finish(event_state& e, std::span<const result> results);
    void finish(event_state& e, result_list results);
    void count_finished(std::span<const result> results);
    void set_busy(consumer& c, bool busy);
    bool drained() const noexcept;

    boost::asio::any_io_executor strand_;
    bool (*on_strand_)(const boost::asio::any_io_executor&) noexcept;
    std::vector<erased_collector> collectors_;
    collector_queue_options options_;
    route_fn router_;
    std::shared_ptr<courier::clock> clock_;

    phase phase_ = phase::created;
    bool stop_started_ = false;
    bool now_ = false;     ///< an immediate stop was asked for
    bool closing_ = false; ///< consumers leave once nothing waits
    std::size_t set_up_ = 0;
    /// True while there is nothing a destructor must stop: before the first payload or
    /// start, and once stopped. Read from the destroying thread, hence atomic.
    std::atomic<bool> quiet_{true};
    std::exception_ptr stop_error_;
    std::vector<std::shared_ptr<control_waiter>> start_waiters_, stop_waiters_;

    pending_queue<std::shared_ptr<event_state>> queued_;
    std::deque<blocked_send> blocked_;
    std::list<consumer> consumers_;
    std::deque<consumer*> idle_; ///< back: idle most recently (woken first); front: retired first
    std::size_t waking_ = 0;     ///< consumers woken or started, not yet looking at the queue
    std::size_t retiring_ = 0;   ///< consumers told to stop, not gone yet
    std::size_t busy_ = 0;
    bool scaler_running_ = false;
    bool scaler_waiting_ = false;
    courier::detail::async_event scaler_wakeup_;
    boost::asio::cancellation_signal scaler_cancel_;
    courier::detail::async_event changed_; ///< for run_stop: drained, a consumer left, start finished

    counters counts_;
};

} // namespace courier::event_collector::detail

#endif
