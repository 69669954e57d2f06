// The manager: an io_context (owned or borrowed), signal handling, and one dispatcher.
#include "ops/http_endpoint.hpp"

#include <courier/error.hpp>
#include <courier/manager.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/signal_set.hpp>

#include <atomic>
#include <csignal>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

namespace asio = boost::asio;

namespace courier {

struct manager::impl
{
    explicit impl(manager_options o)
        : options(std::move(o))
    {
    }

    manager_options options;
    std::optional<asio::io_context> owned_io;
    asio::io_context* io = nullptr;
    std::vector<route> pending_routes;
    std::mutex mutex; // guards `running` and `stop_requested` (stop() may come from anywhere)
    std::unique_ptr<dispatcher> running;
    bool stop_requested = false;
    bool stop_now_requested = false;
    // Destroyed before the io_context: stopping it posts its last work there.
    std::unique_ptr<detail::http_endpoint> endpoint;
    std::atomic<std::uint16_t> endpoint_port{0};
};

manager::manager(manager_options options)
    : impl_(std::make_unique<impl>(std::move(options)))
{
    // One thread: the hint that lets Asio skip the I/O locks and courier the strands (see
    // manager_options::threads).
    const auto threads = std::max<std::size_t>(impl_->options.threads, 1);
    impl_->owned_io.emplace(threads == 1 ? BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO : static_cast<int>(threads));
    impl_->io = &*impl_->owned_io;
}

manager::manager(asio::io_context& io, manager_options options)
    : impl_(std::make_unique<impl>(std::move(options)))
{
    impl_->io = &io;
}

manager::~manager() = default;

void manager::add_route(route r)
{
    if (impl_->running)
        throw error(errc::bad_configuration, "routes must be added before run()", {.route = r.name()});
    impl_->pending_routes.push_back(std::move(r));
}

std::uint16_t manager::metrics_port() const noexcept
{
    return impl_->endpoint_port.load();
}

asio::any_io_executor manager::get_executor() const
{
    return impl_->io->get_executor();
}

const logger& manager::log() const noexcept
{
    return impl_->options.dispatch.log;
}

const std::vector<route>& manager::routes() const
{
    return impl_->running ? impl_->running->routes() : impl_->pending_routes;
}

void manager::stop()
{
    std::lock_guard lock(impl_->mutex);
    impl_->stop_requested = true;
    if (impl_->running)
        impl_->running->stop();
}

void manager::stop_now()
{
    std::lock_guard lock(impl_->mutex);
    impl_->stop_requested = true;
    impl_->stop_now_requested = true;
    if (impl_->running)
        impl_->running->stop_now();
}

int manager::run()
{
    auto& m = *impl_;
    auto& io = *m.io;
    const auto& log = m.options.dispatch.log;
    {
        std::lock_guard lock(m.mutex);
        auto dispatch = m.options.dispatch;
        if (!m.options.metrics_address.empty())
            dispatch.record_metrics = true;
        m.running = std::make_unique<dispatcher>(io.get_executor(), std::move(m.pending_routes), std::move(dispatch));
        if (m.stop_now_requested)
            m.running->stop_now();
        else if (m.stop_requested)
            m.running->stop();
    }
    auto& d = *m.running;
    d.validate();
    if (!m.options.metrics_address.empty())
    {
        const auto window = m.options.readiness_window;
        m.endpoint = std::make_unique<detail::http_endpoint>(
            io.get_executor(), m.options.metrics_address,
            detail::endpoint_sources{[&d] { return d.metrics_text(); }, [&d, window] { return d.readiness(window); }},
            log);
        m.endpoint_port = m.endpoint->port();
    }

    // First signal: graceful stop. Second: cancel the handlers still running.
    std::optional<asio::signal_set> signals;
    int signals_seen = 0;
    std::function<void(boost::system::error_code, int)> on_signal = [&](boost::system::error_code ec, int number) {
        if (ec)
            return;
        if (++signals_seen == 1)
        {
            log.log(log_level::info, {}, {}, "signal {} received: stopping gracefully (again to stop now)", number);
            d.stop();
        }
        else
        {
            log.log(log_level::warning, {}, {}, "signal {} received again: stopping now", number);
            d.stop_now();
        }
        signals->async_wait(on_signal);
    };
    if (m.options.handle_signals)
    {
        signals.emplace(io, SIGINT, SIGTERM);
        signals->async_wait(on_signal);
    }

    int exit_code = exit_error;
    // Set by the completion, which may run on any thread that runs `io`.
    std::atomic<bool> done{false};
    auto finished = d.run();
    asio::co_spawn(io, std::move(finished), [&](std::exception_ptr error, stop_kind kind) {
        if (signals)
            signals->cancel();
        if (m.endpoint)
            m.endpoint->stop();
        if (error)
        {
            log.log(log_level::error, {}, {}, "dispatcher failed: {}", error_text(error));
            exit_code = exit_error;
        }
        else
            switch (kind)
            {
            case stop_kind::graceful: exit_code = exit_ok; break;
            case stop_kind::cancelled: exit_code = exit_cancelled; break;
            case stop_kind::failed: exit_code = exit_permanent_error; break;
            }
        done.store(true, std::memory_order_release);
    });

    if (m.owned_io)
    {
        std::vector<std::thread> extra;
        for (std::size_t i = 1; i < m.options.threads; ++i)
            extra.emplace_back([&io] { io.run(); });
        io.run();
        for (auto& t : extra)
            t.join();
    }
    else
    {
        // A borrowed io_context may have other work: drive it only until we are done. Other
        // threads may run it too, and the completion may land on one of them while this
        // thread waits in run_one for work that never comes (a work guard keeps the context
        // alive): wait in bounded slices and look again. While handlers are ready they are
        // run with poll_one, which does not read the clock as run_one_for does per handler.
        while (!done.load(std::memory_order_acquire) && !io.stopped())
            if (io.poll_one() == 0)
                io.run_one_for(std::chrono::milliseconds(50));
    }
    if (!done.load(std::memory_order_acquire))
        log.log(log_level::error, {}, {}, "the io_context stopped before the dispatcher finished");
    return exit_code;
}

} // namespace courier
