// What a broker provider keeps of each delivery it handed out and that is not settled yet:
// what a retry copy needs besides the message (the AMQP properties, the STOMP headers), and
// since when the route holds it, for RabbitMQ's consumer_timeout (see `overdue`).
#ifndef COURIER_SRC_BROKER_HELD_HPP
#define COURIER_SRC_BROKER_HELD_HPP

#include "courier/clock.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace courier::broker {

template <class T> class held_deliveries
{
public:
    void add(std::string receipt, T data, courier::clock::time_point since)
    {
        entries_.insert_or_assign(std::move(receipt), entry{std::move(data), since, false});
    }

    /// The delivery's data, or null if it is not held (settled, or never handed out).
    const T* find(const std::string& receipt) const
    {
        const auto it = entries_.find(receipt);
        return it == entries_.end() ? nullptr : &it->second.data;
    }

    void erase(const std::string& receipt) { entries_.erase(receipt); }
    std::size_t size() const noexcept { return entries_.size(); }

    /// Calls `warn(receipt, since)` once for each delivery held since before `threshold`.
    template <class F> void overdue(courier::clock::time_point threshold, F warn)
    {
        for (auto& [receipt, e] : entries_)
            if (!e.warned && e.since < threshold)
            {
                e.warned = true;
                warn(receipt, e.since);
            }
    }

private:
    struct entry
    {
        T data;
        courier::clock::time_point since;
        bool warned = false;
    };
    std::unordered_map<std::string, entry> entries_;
};

} // namespace courier::broker

#endif
