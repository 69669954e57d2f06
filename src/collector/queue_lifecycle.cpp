// A collector queue's life: configuration checks, start (setups in order, then the
// consumers), the graceful and the immediate stop, and the teardowns in reverse order.
//
// `start` and `stop` hop onto the queue's strand and run there as coroutines of their
// own; callers only wait for them (from any executor), so a caller that gives up waiting
// cannot leave a queue half started or half stopped.
#include "collector/queue_impl.hpp"
#include "detail/serial_executor.hpp"

#include <courier/collector/errc.hpp>
#include <courier/error.hpp>

#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <set>

namespace asio = boost::asio;

namespace courier::event_collector::detail {
namespace {

using io_executor = asio::io_context::executor_type;

template <class Executor> bool running_here(const asio::any_io_executor& ex) noexcept
{
    return ex.target<Executor>()->running_in_this_thread();
}

} // namespace

std::shared_ptr<queue_core> queue_core::create(asio::any_io_executor executor, std::vector<erased_collector> collectors,
                                               collector_queue_options options, route_fn router)
{
    return std::make_shared<queue_impl>(std::move(executor), std::move(collectors), std::move(options),
                                        std::move(router));
}

queue_impl::queue_impl(asio::any_io_executor executor, std::vector<erased_collector> collectors,
                       collector_queue_options options, route_fn router)
    : collectors_(std::move(collectors)),
      options_(std::move(options)),
      router_(std::move(router)),
      clock_(options_.clock ? options_.clock : courier::steady_clock()),
      queued_(options_.queue_type)
{
    validate();
    // One handler at a time: a strand unless the executor already is one, or runs on an
    // io_context built for one thread (see serial_executor.hpp). The check "am I on it?"
    // is what lets a send from the queue's own executor skip a post.
    if (executor.target<asio::strand<io_executor>>() != nullptr)
        strand_ = std::move(executor);
    else if (executor.target<asio::strand<asio::any_io_executor>>() != nullptr)
        strand_ = std::move(executor);
    else
        strand_ = courier::detail::make_serial(executor);
    if (strand_.target<io_executor>() != nullptr)
        on_strand_ = &running_here<io_executor>;
    else if (strand_.target<asio::strand<io_executor>>() != nullptr)
        on_strand_ = &running_here<asio::strand<io_executor>>;
    else
        on_strand_ = &running_here<asio::strand<asio::any_io_executor>>;
}

void queue_impl::validate() const
{
    const auto bad = [&](const std::string& what) {
        throw courier::error(courier::errc::bad_configuration, "collector queue: " + what,
                             error_context{.queue = options_.name});
    };
    if (collectors_.empty())
        bad("no collectors");
    std::set<std::string_view> keys;
    for (const auto& c : collectors_)
    {
        if (c.key.empty())
            bad("a collector has an empty key");
        if (!keys.insert(c.key).second)
            bad("two collectors have the key '" + c.key + "'");
        if (!c.process)
            bad("collector '" + c.key + "' has no processor");
        if (!c.context)
            bad("collector '" + c.key + "' has no context");
    }
    if (options_.min_consumers == 0)
        bad("min_consumers must be at least 1");
    if (options_.max_consumers < options_.min_consumers)
        bad(fmt::format("max_consumers ({}) is below min_consumers ({})", options_.max_consumers,
                        options_.min_consumers));
}

// ---- start and stop: callers wait; the work runs on the strand ----

asio::awaitable<void> queue_impl::start()
{
    return asio::async_initiate<decltype(asio::use_awaitable), void(std::exception_ptr)>(
        [self = shared_from_this()](auto handler) {
            self->hop(control_waiter::make(std::move(handler), {}, operation_aborted_error()), true, false);
        },
        asio::use_awaitable);
}

asio::awaitable<void> queue_impl::stop(bool now)
{
    return asio::async_initiate<decltype(asio::use_awaitable), void(std::exception_ptr)>(
        [self = shared_from_this(), now](auto handler) {
            self->hop(control_waiter::make(std::move(handler), {}, operation_aborted_error()), false, now);
        },
        asio::use_awaitable);
}

void queue_impl::abandon() noexcept
{
    // A queue stopped (or never used) needs nothing more, and its executor may be gone.
    if (quiet_.load(std::memory_order_acquire))
        return;
    try
    {
        hop(nullptr, false, true);
    }
    catch (...)
    {
        // Only allocation can fail here; the queue then stops when its executor goes.
    }
}

void queue_impl::hop(std::shared_ptr<control_waiter> w, bool start, bool now)
{
    asio::dispatch(strand_, [self = shared_from_this(), w = std::move(w), start, now]() mutable {
        if (start)
        {
            if (self->phase_ != phase::created)
            {
                const bool stopped = self->phase_ == phase::draining || self->phase_ == phase::stopped;
                w->complete(std::make_exception_ptr(courier::error(
                    stopped ? make_error_code(errc::queue_stopped) : make_error_code(courier::errc::bad_configuration),
                    stopped ? "collector queue stopped before it started" : "collector queue started twice",
                    error_context{.queue = self->options_.name})));
                return;
            }
            self->phase_ = phase::starting;
            self->quiet_.store(false, std::memory_order_release);
            self->start_waiters_.push_back(std::move(w));
            asio::co_spawn(self->strand_, self->run_start(),
                           [self](std::exception_ptr e) { self->finish_control(self->start_waiters_, e); });
            return;
        }
        if (self->phase_ == phase::stopped)
        {
            if (w)
                w->complete(self->stop_error_);
            return;
        }
        if (w)
            self->stop_waiters_.push_back(std::move(w));
        if (now && !self->now_)
            self->begin_immediate_stop();
        if (!self->stop_started_)
        {
            self->stop_started_ = true;
            asio::co_spawn(self->strand_, self->run_stop(), [self](std::exception_ptr e) {
                self->stop_error_ = e;
                self->finish_control(self->stop_waiters_, e);
            });
        }
    });
}

void queue_impl::finish_control(std::vector<std::shared_ptr<control_waiter>>& waiters, std::exception_ptr e)
{
    auto done = std::move(waiters);
    waiters.clear();
    for (auto& w : done)
        w->complete(e);
    changed_.notify();
}

asio::awaitable<void> queue_impl::run_start()
{
    options_.log.log(log_level::info, options_.name, {}, "starting {} collector(s)", collectors_.size());
    std::exception_ptr failure;
    const erased_collector* failed = nullptr;
    for (; set_up_ < collectors_.size(); ++set_up_)
    {
        auto& c = collectors_[set_up_];
        if (!c.lifecycle.setup)
            continue;
        try
        {
            co_await c.lifecycle.setup(*c.context);
        }
        catch (...)
        {
            failure = std::current_exception();
            failed = &c;
            break;
        }
    }
    if (!failure)
    {
        phase_ = phase::running;
        start_consumers();
        options_.log.log(log_level::info, options_.name, {}, "started: {} consumer(s), at most {}", consumers_.size(),
                         options_.max_consumers);
        co_return;
    }

    const auto message = fmt::format("collector '{}': lifecycle setup failed: {}", failed->key, error_text(failure));
    options_.log.log(log_level::error, options_.name, {}, "{}; the queue does not start", message);
    auto error =
        std::make_exception_ptr(courier::error(errc::setup_failed, message, error_context{.queue = options_.name}));
    phase_ = phase::start_failed; // refuses payloads; a stop asked for meanwhile waits for this
    cancel_waiting(error);
    if (auto teardown_error = co_await tear_down())
        log_failure("teardown after the failed start", teardown_error);
    phase_ = phase::stopped;
    quiet_.store(true, std::memory_order_release);
    std::rethrow_exception(error);
}

// The graceful stop, which an immediate stop (begin_immediate_stop) only hurries.
asio::awaitable<void> queue_impl::run_stop()
{
    while (phase_ == phase::starting || phase_ == phase::start_failed)
        co_await changed_.wait();
    if (phase_ == phase::stopped)
        co_return; // the start failed and cleaned up
    if (phase_ == phase::created)
    {
        // Never started: nothing will process what waits.
        phase_ = phase::draining;
        cancel_waiting(std::make_exception_ptr(courier::error(errc::payload_cancelled,
                                                              "the collector queue stopped before it started",
                                                              error_context{.queue = options_.name})));
    }
    phase_ = phase::draining;
    options_.log.log(log_level::info, options_.name, {}, "stopping{}: {} payload(s) waiting, {} being processed",
                     now_ ? " now" : "", queued_.size() + blocked_.size(), busy_);
    if (now_)
        begin_immediate_stop(); // asked for while the queue was starting
    for (;;)
    {
        prune_blocked();
        if (drained())
            break;
        co_await changed_.wait();
    }
    closing_ = true;
    for (auto* c : std::exchange(idle_, {}))
        wake(*c, false);
    scaler_cancel_.emit(asio::cancellation_type::terminal);
    scaler_wakeup_.notify();
    while (!consumers_.empty() || scaler_running_)
        co_await changed_.wait();

    auto teardown_error = co_await tear_down();
    phase_ = phase::stopped;
    quiet_.store(true, std::memory_order_release);
    const auto s = stats();
    options_.log.log(log_level::info, options_.name, {}, "stopped: {} payload(s) completed, {} cancelled", s.completed,
                     s.cancelled);
    if (teardown_error)
        std::rethrow_exception(teardown_error);
}

void queue_impl::begin_immediate_stop()
{
    now_ = true;
    if (phase_ == phase::created || phase_ == phase::starting || phase_ == phase::start_failed)
        return; // run_stop comes back here once the start is over
    cancel_waiting(std::make_exception_ptr(courier::error(
        errc::payload_cancelled, "the collector queue stopped at once before a collector got the payload",
        error_context{.queue = options_.name})));
    for (auto& c : consumers_)
        if (c.busy)
            c.cancel.emit(asio::cancellation_type::terminal);
}

// Teardowns of every collector set up, last first; each runs even if another failed.
// Returns the failure to report (the first), or null.
asio::awaitable<std::exception_ptr> queue_impl::tear_down()
{
    std::exception_ptr first;
    std::string failed_keys;
    while (set_up_ > 0)
    {
        auto& c = collectors_[--set_up_];
        if (!c.lifecycle.teardown)
            continue;
        try
        {
            co_await c.lifecycle.teardown(*c.context);
        }
        catch (...)
        {
            const auto e = std::current_exception();
            log_failure(fmt::format("teardown of collector '{}'", c.key), e);
            if (!first)
                first = e;
            failed_keys += failed_keys.empty() ? "'" + c.key + "'" : ", '" + c.key + "'";
        }
    }
    if (!first)
        co_return nullptr;
    co_return std::make_exception_ptr(courier::error(
        errc::teardown_failed, fmt::format("teardown of collector {} failed: {}", failed_keys, error_text(first)),
        error_context{.queue = options_.name}));
}

void queue_impl::log_failure(std::string_view what, std::exception_ptr e) const
{
    options_.log.log(log_level::error, options_.name, {}, "{} failed: {}", what, error_text(e));
}

std::exception_ptr queue_impl::refused() const
{
    return std::make_exception_ptr(
        courier::error(errc::queue_stopped,
                       phase_ == phase::stopped ? "the collector queue is stopped" : "the collector queue is stopping",
                       error_context{.queue = options_.name}));
}

collector_queue_stats queue_impl::stats() const noexcept
{
    const auto r = std::memory_order_relaxed;
    return {.sent = counts_.sent.load(r),
            .completed = counts_.completed.load(r),
            .cancelled = counts_.cancelled.load(r),
            .unrouted = counts_.unrouted.load(r),
            .errors = counts_.errors.load(r),
            .queued = counts_.queued.load(r),
            .blocked_senders = counts_.blocked.load(r),
            .consumers = counts_.consumers.load(r),
            .busy_consumers = counts_.busy.load(r),
            .consumers_peak = counts_.peak.load(r)};
}

} // namespace courier::event_collector::detail
