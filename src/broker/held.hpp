// What a broker provider keeps of each delivery it handed out and that is not settled yet:
// what a retry copy needs besides the message (the AMQP properties, the STOMP headers), and
// since when the route holds it, for RabbitMQ's consumer_timeout (see `overdue`).
#ifndef COURIER_SRC_BROKER_HELD_HPP
#define COURIER_SRC_BROKER_HELD_HPP

#include "courier/clock.hpp"
#include "courier/logger.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace courier::broker {

template <class T> class held_deliveries
{
public:
    // By reference: AMQP's properties are fourteen optionals, each move of them a copy of
    // their short strings.
    void add(const std::string& receipt, T&& data, courier::clock::time_point since)
    {
        auto [it, added] = entries_.try_emplace(receipt, std::move(data), since);
        if (!added)
            it->second = entry(std::move(data), since);
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

    /// Logs a warning, once per delivery, for each one held for 5/6 of RabbitMQ's
    /// `consumer_timeout`; `consequence` says what the broker then does ("closes the channel").
    void warn_overdue(const courier::logger& log, courier::clock::time_point now,
                      std::chrono::milliseconds consumer_timeout, std::string_view connection, std::string_view queue,
                      std::string_view consequence)
    {
        using std::chrono::seconds, std::chrono::duration_cast;
        overdue(now - consumer_timeout * 5 / 6, [&](const std::string& receipt, courier::clock::time_point since) {
            log.log(log_level::warning, "", receipt,
                    "{}: a message of {} has been held unacknowledged for {} s; at RabbitMQ's consumer_timeout ({} s) "
                    "the broker {}, delivers the message again and its acknowledgement fails",
                    connection, queue, duration_cast<seconds>(now - since).count(),
                    duration_cast<seconds>(consumer_timeout).count(), consequence);
        });
    }

private:
    struct entry
    {
        entry(T&& d, courier::clock::time_point s)
            : data(std::move(d)),
              since(s)
        {
        }
        T data;
        courier::clock::time_point since;
        bool warned = false;
    };
    std::unordered_map<std::string, entry> entries_;
};

} // namespace courier::broker

#endif
