// A payload: the user's value plus how the collector queue should deliver it.
//
//     ec::payload<reading> p{.value = r,
//                            .delivery = ec::delivery::topic,
//                            .topics = {"sensor-data"}};
//     auto event = co_await publisher.send(std::move(p));
//
// (Build it in a named variable, as here: GCC 12 miscompiles a braced temporary holding
// strings inside a `co_await` expression; see the README's GCC 12 caveat.)
#ifndef COURIER_COLLECTOR_PAYLOAD_HPP
#define COURIER_COLLECTOR_PAYLOAD_HPP

#include <optional>
#include <string>
#include <vector>

namespace courier::event_collector {

/// How the default router chooses the collectors of a payload.
enum class delivery
{
    broadcast, ///< every collector of the queue
    key,       ///< the collectors whose key is in `keys`
    topic,     ///< the collectors listening to any of `topics`
};

/// A value of the user's type and its delivery metadata. A key or topic that matches no
/// collector is not an error: the payload goes nowhere and its result list is empty
/// (a success), as in the seed.
template <class T> struct payload
{
    T value;
    event_collector::delivery delivery = event_collector::delivery::broadcast;
    /// For `delivery::key`.
    std::vector<std::string> keys;
    /// For `delivery::topic`.
    std::vector<std::string> topics;
    /// For a `queue_type::priority` queue: lower numbers are served first; none means the
    /// queue's `default_priority`. Ignored by FIFO and LIFO queues.
    std::optional<int> priority;
};

} // namespace courier::event_collector

#endif
