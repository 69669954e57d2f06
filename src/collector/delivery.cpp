// Running the collectors a payload goes to: the default router's choice, one collector
// inline, several concurrently (as the seed gathers them), results named by key, exceptions
// turned into Errors (and, during an immediate stop, cancellations into payload_cancelled),
// and the completion of the payload's event.
#include "collector/queue_impl.hpp"
#include "detail/cancellation.hpp"

#include <courier/collector/errc.hpp>
#include <courier/error.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace asio = boost::asio;

namespace courier::event_collector::detail {

void select_collectors(const std::vector<erased_collector>& collectors, delivery how,
                       const std::vector<std::string>& keys, const std::vector<std::string>& topics,
                       std::vector<std::size_t>& out)
{
    out.clear();
    for (std::size_t i = 0; i < collectors.size(); ++i)
    {
        const auto& c = collectors[i];
        bool chosen = false;
        switch (how)
        {
        case delivery::broadcast: chosen = true; break;
        case delivery::key: chosen = std::find(keys.begin(), keys.end(), c.key) != keys.end(); break;
        case delivery::topic:
            chosen = std::any_of(c.topics.begin(), c.topics.end(), [&](const std::string& t) {
                return std::find(topics.begin(), topics.end(), t) != topics.end();
            });
            break;
        }
        if (chosen)
            out.push_back(i);
    }
}

asio::awaitable<result> queue_impl::invoke(const erased_collector& c, const void* payload)
{
    result r;
    try
    {
        r = co_await c.process(payload, *c.context);
    }
    catch (...)
    {
        r = error(cancellation_aware(std::current_exception(), c.key));
    }
    r.set_key(c.key);
    co_return r;
}

// Concurrently, as the seed gathers its collectors: a collector that waits does not hold
// up the others. The group forwards a cancellation (an immediate stop) to each of them.
asio::awaitable<void> queue_impl::run_collectors(const void* payload, const std::vector<std::size_t>& which,
                                                 result* out)
{
    using op = decltype(asio::co_spawn(strand_, invoke(collectors_.front(), payload), asio::deferred));
    std::vector<op> ops;
    ops.reserve(which.size());
    for (const auto i : which)
        ops.push_back(asio::co_spawn(strand_, invoke(collectors_[i], payload), asio::deferred));
    auto [order, failures, values] = co_await asio::experimental::make_parallel_group(std::move(ops))
                                         .async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
    for (std::size_t k = 0; k < which.size(); ++k)
    {
        out[k] = failures[k] ? error(cancellation_aware(failures[k], collectors_[which[k]].key)) : std::move(values[k]);
        out[k].set_key(collectors_[which[k]].key);
    }
}

asio::awaitable<result_list> queue_impl::deliver(event_state& e, std::vector<std::size_t> which)
{
    for (const auto i : which)
        if (i >= collectors_.size())
            throw courier::error(
                errc::bad_value,
                fmt::format("a router asked for collector {}; the queue has {}", i, collectors_.size()),
                error_context{.queue = options_.name});
    if (which.empty())
        co_return result_list();
    std::vector<result> out(which.size());
    co_await run_collectors(e.payload(), which, out.data());
    co_return result_list(std::move(out));
}

std::exception_ptr queue_impl::cancellation_aware(std::exception_ptr e, const std::string& key) const
{
    if (!now_ || !courier::detail::is_operation_aborted(e))
        return e;
    const auto what = key.empty() ? std::string("the router ran") : fmt::format("collector '{}' processed it", key);
    return std::make_exception_ptr(courier::error(errc::payload_cancelled,
                                                  "the collector queue stopped at once while " + what,
                                                  error_context{.queue = options_.name}));
}

// ---- completion ----

void queue_impl::count_finished(std::span<const result> results)
{
    const auto errors = std::count_if(results.begin(), results.end(), [](const result& r) { return r.is_error(); });
    if (results.empty())
        bump(counts_.unrouted);
    if (errors != 0)
        bump(counts_.errors, static_cast<std::uint64_t>(errors));
    bump(counts_.completed);
}

void queue_impl::finish(event_state& e, std::span<const result> results)
{
    count_finished(results);
    e.complete_stored();
}

void queue_impl::finish(event_state& e, result_list results)
{
    count_finished(std::span<const result>(results.begin(), results.size()));
    e.complete(std::move(results));
}

} // namespace courier::event_collector::detail
