// The Manager: what `main()` creates. It owns (or borrows) the io_context, installs
// SIGINT/SIGTERM handling, collects routes and runs the dispatcher.
//
//     int main()
//     {
//         courier::manager mgr;
//         mgr.add_route("orders", queue, courier::json<order>{}, handle_order);
//         return mgr.run();   // until SIGINT/SIGTERM, then a graceful stop
//     }
//
// The first signal starts a graceful stop (see dispatcher.hpp); a second one cancels
// the handlers still running.
#ifndef COURIER_MANAGER_HPP
#define COURIER_MANAGER_HPP

#include <courier/dispatcher.hpp>
#include <courier/route.hpp>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace courier {

/// Settings of a manager; `dispatch` is passed to the dispatcher.
struct manager_options
{
    /// Threads running the owned io_context (ignored for a borrowed one). With 1 (the
    /// default) the io_context is built for one thread (Asio's
    /// BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO): sockets skip their locks and routes and
    /// clients need no strands. Posting or co_spawning onto `get_executor()` from other
    /// threads stays safe (`stop()` does); starting I/O on its sockets, or on timers
    /// that its coroutines also use, from another thread does not. To get the same on a
    /// borrowed io_context, build it with that hint.
    std::size_t threads = 1;
    /// Stop on SIGINT and SIGTERM.
    bool handle_signals = true;
    /// Where to serve /metrics (Prometheus text format), /healthz and /readyz over HTTP, as
    /// "host:port" ("127.0.0.1:9464", "[::1]:9464", "0.0.0.0:9464" for every interface);
    /// empty: not served. Serving it turns `dispatch.record_metrics` on.
    std::string metrics_address{};
    /// /readyz answers 200 when every route is running and its last receive succeeded (or
    /// came back empty) within this long, or it is full (every message in flight busy).
    std::chrono::milliseconds readiness_window{std::chrono::seconds(60)};
    dispatcher_options dispatch{};
};

/// Exit codes `run()` returns.
inline constexpr int exit_ok = 0;              ///< graceful stop, all handlers finished
inline constexpr int exit_error = 1;           ///< the dispatcher failed (logged)
inline constexpr int exit_cancelled = 2;       ///< stopped with handlers cancelled
inline constexpr int exit_permanent_error = 3; ///< a route hit an error retrying cannot heal (logged, with what to fix)

/// Owns the event loop and the dispatcher of a service.
///
/// Thread safety: configure from one thread; `stop()` is safe from any thread.
class manager
{
public:
    /// A manager with its own io_context.
    explicit manager(manager_options options = {});
    /// A manager that runs on the caller's io_context; `run()` then drives that
    /// io_context until the dispatcher has stopped.
    explicit manager(boost::asio::io_context& io, manager_options options = {});
    ~manager();
    manager(const manager&) = delete;
    manager& operator=(const manager&) = delete;

    /// Adds a route (see route.hpp for the forms). Before `run()` only; afterwards the
    /// routes are the dispatcher's, see `routes()`.
    void add_route(route r);
    /// Adds a route whose handler takes the translator's result.
    template <translator Translator, class Handler>
    requires(!std::same_as<std::remove_cvref_t<Handler>, route_options>) void add_route(
        std::string name, std::shared_ptr<provider> source, Translator translate, Handler handle,
        route_options options = {})
    {
        add_route(
            route(std::move(name), std::move(source), std::move(translate), std::move(handle), std::move(options)));
    }
    /// Adds a route whose handler takes the raw `courier::message`.
    template <class Handler>
    void add_route(std::string name, std::shared_ptr<provider> source, Handler handle, route_options options = {})
    {
        add_route(route(std::move(name), std::move(source), std::move(handle), std::move(options)));
    }

    /// Runs until stopped; returns `exit_ok`, `exit_cancelled`, `exit_permanent_error` or
    /// `exit_error`. Configuration errors are thrown as `courier::error` before anything runs
    /// (a `main` catching them returns 1).
    int run();
    /// Begins a graceful stop (as the first SIGTERM does).
    void stop();
    /// Cancels running handlers and any receive at once (as a second SIGTERM does).
    void stop_now();

    boost::asio::any_io_executor get_executor() const;
    /// The port /metrics is served on (after `run()` started; 0 when not served).
    std::uint16_t metrics_port() const noexcept;
    const logger& log() const noexcept;
    /// The routes (valid for stats after `run()` returned too).
    const std::vector<route>& routes() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace courier

#endif
