// The Dispatcher: runs routes on an executor until stopped, then shuts down gracefully.
//
// Use it directly to embed courier into a program that already runs its own
// io_context; `courier::manager` wraps it with signal handling and an io_context of
// its own. Each route runs on its own strand: a receive loop that asks the provider for
// messages only when the route (and the global limit) has room, one coroutine per
// message, and a heartbeat loop.
//
// Shutdown (`stop()`): stop receiving (a long poll in flight finishes, within its wait
// time); let in-flight handlers finish until the deadline; release messages that were
// received but not started (they are redelivered at once); flush acknowledgements
// (`provider::close`); return. At the deadline the handlers still running are cancelled
// and their messages released. `stop_now()` cancels handlers and any receive at once.
#ifndef COURIER_DISPATCHER_HPP
#define COURIER_DISPATCHER_HPP

#include <courier/clock.hpp>
#include <courier/hooks.hpp>
#include <courier/logger.hpp>
#include <courier/route.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace courier {

/// Settings shared by all routes of a dispatcher.
struct dispatcher_options
{
    /// Messages in flight across all routes; 0 = only the per-route limits apply.
    std::size_t max_in_flight = 0;
    /// How long `stop()` waits for running handlers before cancelling them.
    std::chrono::milliseconds shutdown_deadline{std::chrono::seconds(30)};
    /// Threads of the pool that runs plain (non-coroutine) handlers.
    std::size_t blocking_threads = 4;
    /// Time source for backoff, heartbeats and the shutdown deadline; null = real time.
    std::shared_ptr<courier::clock> clock{};
    /// Where processing steps are logged.
    courier::logger log{};
    /// Callbacks for what happens to messages (hooks.hpp).
    route_hooks hooks{};
    /// Record the histograms that `metrics_text()` exposes (handler duration, message age,
    /// acknowledgement latency). Off, they cost nothing; the manager turns this on with its
    /// metrics endpoint. Counters are always kept.
    bool record_metrics = false;
    /// When a route's provider fails in a way retrying cannot heal (`is_permanent`: a missing
    /// queue, denied access, invalid credentials, a bad configuration): stop every route, and
    /// `run()` ends with `stop_kind::failed`; or keep retrying with back-off.
    enum class permanent_errors
    {
        stop,
        keep_retrying,
    } on_permanent_error = permanent_errors::stop;
};

/// How `run()` ended.
enum class stop_kind
{
    graceful,  ///< every started handler finished
    cancelled, ///< handlers were cancelled by `stop_now()` or the shutdown deadline
    failed,    ///< a route hit a permanent error (logged, with what to fix); the others stopped
};

/// Whether a dispatcher is ready to take work, and why not (see `dispatcher::readiness`).
struct readiness
{
    bool ready = false;
    /// One line per route that is not ready: "orders: receive failed 75 s ago: ...".
    std::vector<std::string> reasons{};
};

/// Runs routes.
///
/// Thread safety: `stop()` and `stop_now()` are safe from any thread and from signal
/// handlers run by Asio; `run()` is called once.
class dispatcher
{
public:
    dispatcher(boost::asio::any_io_executor executor, std::vector<route> routes, dispatcher_options options = {});
    ~dispatcher();
    dispatcher(const dispatcher&) = delete;
    dispatcher& operator=(const dispatcher&) = delete;

    /// Runs every route until `stop()`, then shuts down as described above.
    /// Throws `courier::error` (bad_configuration) before starting if a route is
    /// invalid (no provider, duplicate name, zero limits).
    boost::asio::awaitable<stop_kind> run();

    /// Throws `courier::error` (bad_configuration) if a route is invalid; `run()`
    /// calls it first.
    void validate() const;

    /// Begins a graceful stop. Idempotent; also valid before `run()` (run then returns
    /// at once after releasing nothing).
    void stop();
    /// Cancels running handlers at once (second signal). Implies `stop()`.
    void stop_now();

    /// The routes, in the order given (for their names and stats).
    const std::vector<route>& routes() const noexcept;

    /// The routes' metrics in the Prometheus text exposition format (the README's "Running
    /// in production" lists them). Safe from any thread.
    std::string metrics_text() const;

    /// Ready when every route is running and its last receive succeeded (or came back empty)
    /// within `window`. Safe from any thread.
    courier::readiness readiness(std::chrono::milliseconds window) const;

private:
    boost::asio::awaitable<stop_kind> run_routes();
    struct impl;
    std::shared_ptr<impl> impl_;
};

} // namespace courier

#endif
