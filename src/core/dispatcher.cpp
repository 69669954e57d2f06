// The dispatcher: validates routes, starts one runner per route and waits for all of
// them to drain after a stop.
#include "core/dispatcher_impl.hpp"
#include "detail/serial_executor.hpp"

#include <courier/dispatcher.hpp>
#include <courier/error.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <mutex>
#include <set>

namespace asio = boost::asio;

namespace courier {

dispatcher::dispatcher(asio::any_io_executor executor, std::vector<route> routes, dispatcher_options options)
    : impl_(std::make_shared<impl>(std::move(executor), std::move(routes), std::move(options)))
{
}

dispatcher::~dispatcher() = default;

void dispatcher::validate() const
{
    impl_->validate();
}

const std::vector<route>& dispatcher::routes() const noexcept
{
    return impl_->routes;
}

asio::awaitable<stop_kind> dispatcher::run()
{
    auto& d = *impl_;
    d.validate();
    // The bookkeeping below runs on a strand of its own, so run() may be spawned on a
    // multi-threaded io_context.
    co_return co_await asio::co_spawn(detail::make_serial(d.executor), run_routes(), asio::use_awaitable);
}

asio::awaitable<stop_kind> dispatcher::run_routes()
{
    auto& d = *impl_;
    // Runners report back on this strand; a counter and an event wait for all of them.
    const auto home = co_await asio::this_coro::executor;
    detail::async_event all_done;
    std::size_t running = d.routes.size();
    auto result = stop_kind::graceful;
    {
        std::lock_guard lock(d.mutex);
        for (auto& r : d.routes)
            d.runners.push_back(std::make_shared<detail::route_runner>(d.executor, r, d.shared));
        for (auto& runner : d.runners)
        {
            asio::co_spawn(runner->executor(), runner->run(), [&, home](std::exception_ptr error, stop_kind kind) {
                asio::post(home, [&, error, kind] {
                    if (error)
                        d.options.log.log(log_level::error, {}, {}, "route failed: {}", error_text(error));
                    if (kind == stop_kind::failed)
                    {
                        // A route that cannot work takes the service down: its
                        // orchestrator should see it, not a half-working service.
                        result = stop_kind::failed;
                        stop();
                    }
                    else if ((error || kind == stop_kind::cancelled) && result != stop_kind::failed)
                        result = stop_kind::cancelled;
                    --running;
                    all_done.notify();
                });
            });
            if (d.stop_now_requested)
                runner->stop_now();
            else if (d.stop_requested)
                runner->stop();
        }
    }
    while (running > 0)
        co_await all_done.wait();
    co_return result;
}

void dispatcher::stop()
{
    std::lock_guard lock(impl_->mutex);
    impl_->stop_requested = true;
    for (auto& runner : impl_->runners)
        runner->stop();
}

void dispatcher::stop_now()
{
    std::lock_guard lock(impl_->mutex);
    impl_->stop_requested = true;
    impl_->stop_now_requested = true;
    for (auto& runner : impl_->runners)
        runner->stop_now();
}

} // namespace courier
