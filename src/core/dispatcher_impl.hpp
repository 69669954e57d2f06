// The inside of `courier::dispatcher`: the routes, their runners, and what they share.
#ifndef COURIER_SRC_CORE_DISPATCHER_IMPL_HPP
#define COURIER_SRC_CORE_DISPATCHER_IMPL_HPP

#include "core/route_runner.hpp"
#include "detail/async_semaphore.hpp"

#include <courier/dispatcher.hpp>
#include <courier/error.hpp>

#include <boost/asio/thread_pool.hpp>

#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace courier {

namespace asio = boost::asio;

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

    mutable std::mutex mutex; // guards the three members below (stop() may come from any thread)
    std::vector<std::shared_ptr<detail::route_runner>> runners;
    bool stop_requested = false;
    bool stop_now_requested = false;
};

} // namespace courier

#endif
