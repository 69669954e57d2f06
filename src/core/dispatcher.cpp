// The dispatcher: validates routes, starts one runner per route and waits for all of
// them to drain after a stop.
#include "core/route_runner.hpp"
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

struct dispatcher::impl
{
    impl(asio::any_io_executor ex, std::vector<route> r, dispatcher_options o)
        : executor(std::move(ex)),
          routes(std::move(r)),
          options(std::move(o)),
          clock(options.clock ? options.clock : steady_clock()),
          blocking_pool(std::max<std::size_t>(options.blocking_threads, 1)),
          shared{options, clock, blocking_pool.get_executor(), nullptr}
    {
        if (options.max_in_flight > 0)
        {
            global_slots.emplace(options.max_in_flight);
            shared.global_slots = &*global_slots;
        }
    }

    void validate() const
    {
        std::set<std::string> names;
        for (const auto& r : routes)
        {
            const error_context where{.route = r.name()};
            if (r.name().empty())
                throw error(errc::bad_configuration, "a route needs a name");
            if (!names.insert(r.name()).second)
                throw error(errc::bad_configuration, "two routes have the same name", where);
            if (r.options().max_in_flight == 0)
                throw error(errc::bad_configuration, "max_in_flight must be at least 1", where);
            if (r.options().receive_batch == 0)
                throw error(errc::bad_configuration, "receive_batch must be at least 1", where);
        }
        if (routes.empty())
            throw error(errc::bad_configuration, "no routes to run");
    }

    asio::any_io_executor executor;
    std::vector<route> routes;
    dispatcher_options options;
    std::shared_ptr<courier::clock> clock;
    asio::thread_pool blocking_pool;
    std::optional<detail::async_semaphore> global_slots;
    detail::dispatch_shared shared;

    std::mutex mutex; // guards the three members below (stop() may come from any thread)
    std::vector<std::shared_ptr<detail::route_runner>> runners;
    bool stop_requested = false;
    bool stop_now_requested = false;
};

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
            asio::co_spawn(runner->executor(), runner->run(),
                           [&, home](std::exception_ptr error, stop_kind kind) {
                               asio::post(home, [&, error, kind] {
                                   if (error)
                                       d.options.log.log(log_level::error, {}, {}, "route failed: {}",
                                                         error_text(error));
                                   if (error || kind == stop_kind::cancelled)
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
