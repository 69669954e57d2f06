// The compiled core behind every `collector_queue<T>`: consumers, the waiting payloads,
// capacity, routing, lifecycles and the two stops, all for type-erased payloads. The
// templates in collector_queue.hpp, publisher.hpp and router.hpp are thin fronts that
// erase `T` and call in here (as fmt's `format` fronts `vformat`), so a queue of a new
// payload type costs its user almost no compile time.
#ifndef COURIER_COLLECTOR_DETAIL_QUEUE_CORE_HPP
#define COURIER_COLLECTOR_DETAIL_QUEUE_CORE_HPP

#include <courier/collector/collector.hpp>
#include <courier/collector/detail/event_state.hpp>
#include <courier/collector/queue_options.hpp>
#include <courier/collector/result.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

namespace courier::event_collector {

class collector_set;

namespace detail {

/// A custom router with the payload type erased.
using route_fn = std::function<boost::asio::awaitable<result_list>(const void* payload, const collector_set&)>;

class queue_core
{
public:
    /// Throws `courier::error` (`courier::errc::bad_configuration`) for an invalid
    /// configuration: no collector, an empty or duplicate key, no processor, consumer
    /// limits out of order.
    static std::shared_ptr<queue_core> create(boost::asio::any_io_executor executor,
                                              std::vector<erased_collector> collectors, collector_queue_options options,
                                              route_fn router);
    virtual ~queue_core() = default;

    virtual boost::asio::awaitable<void> start() = 0;
    /// `now`: the immediate stop.
    virtual boost::asio::awaitable<void> stop(bool now) = 0;
    /// Starts an immediate stop without waiting (a running queue's destructor).
    virtual void abandon() noexcept = 0;

    /// Admits `e` without suspending if called on the queue's executor with room to
    /// spare; false otherwise (then `admit` must be awaited). Throws `courier::error`
    /// (`errc::queue_stopped`) if the queue takes no more payloads.
    virtual bool try_admit(const std::shared_ptr<event_state>& e) = 0;
    /// Admits `e`, waiting for room; from any thread.
    virtual boost::asio::awaitable<void> admit(std::shared_ptr<event_state> e) = 0;

    /// Runs the collectors `which` on the payload of `e`, concurrently; results in the
    /// order of `which` (a custom router's `collector_set::deliver`).
    virtual boost::asio::awaitable<result_list> deliver(event_state& e, std::vector<std::size_t> which) = 0;

    virtual const std::vector<erased_collector>& collectors() const noexcept = 0;
    virtual collector_queue_stats stats() const noexcept = 0;
    virtual const boost::asio::any_io_executor& get_executor() const noexcept = 0;
    virtual const collector_queue_options& options() const noexcept = 0;
};

} // namespace detail
} // namespace courier::event_collector

#endif
