// Routing: which collectors a payload goes to (the seed's Router and SimpleRouter).
//
// Without a router the queue routes by the payload's `delivery`: every collector
// (`broadcast`), those whose key is in `keys` (`key`), or those listening to any of
// `topics` (`topic`); collectors run concurrently and their results come in the queue's
// order of collectors. A custom router replaces that:
//
//     class by_region final : public ec::router<reading>
//     {
//         asio::awaitable<ec::result_list> route(const ec::payload<reading>& p,
//                                                const ec::collector_set& collectors) override
//         {
//             std::vector<std::size_t> which;
//             if (auto i = collectors.find("region-" + p.value.region))
//                 which.push_back(*i);
//             co_return co_await collectors.deliver(std::move(which)); // none: an empty success
//         }
//     };
#ifndef COURIER_COLLECTOR_ROUTER_HPP
#define COURIER_COLLECTOR_ROUTER_HPP

#include <courier/collector/payload.hpp>
#include <courier/collector/result.hpp>

#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace courier::event_collector {

namespace detail {
class queue_core;
class event_state;
} // namespace detail

/// The collectors of a queue, as a router sees them while routing one payload.
///
/// Valid only during the `route` call it is passed to. Thread safety: the queue's
/// executor only.
class collector_set
{
public:
    collector_set(detail::queue_core& core, detail::event_state& event) noexcept
        : core_(core),
          event_(event)
    {
    }

    /// How many collectors the queue has; they are numbered in the order given.
    std::size_t size() const noexcept;
    const std::string& key(std::size_t i) const;
    const std::vector<std::string>& topics(std::size_t i) const;
    /// The number of the collector with this key, if any.
    std::optional<std::size_t> find(std::string_view key) const noexcept;

    /// What the default router chooses, in the queue's order (no collector is chosen twice).
    std::vector<std::size_t> select(event_collector::delivery how, const std::vector<std::string>& keys,
                                    const std::vector<std::string>& topics) const;

    /// Runs the processors of collectors `which` on the payload being routed,
    /// concurrently, and gives their results in the order of `which` (each named by its
    /// collector's key; exceptions become Errors). Throws `courier::error`
    /// (`errc::bad_value`) for a number out of range.
    boost::asio::awaitable<result_list> deliver(std::vector<std::size_t> which) const;

private:
    detail::queue_core& core_;
    detail::event_state& event_;
};

/// A custom router. `route` runs on the queue's executor, in the consumer that took the
/// payload; the list it returns becomes the payload's results. An exception it throws
/// becomes a single Error result (with an empty key).
template <class T> class router
{
public:
    virtual ~router() = default;
    virtual boost::asio::awaitable<result_list> route(const payload<T>& p, const collector_set& collectors) = 0;
};

/// The default routing as a router, to extend or delegate to from a custom one.
template <class T> class simple_router : public router<T>
{
public:
    boost::asio::awaitable<result_list> route(const payload<T>& p, const collector_set& collectors) override
    {
        return collectors.deliver(collectors.select(p.delivery, p.keys, p.topics));
    }
};

} // namespace courier::event_collector

#endif
