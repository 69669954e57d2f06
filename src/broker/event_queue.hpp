// The events a sans-io session decoded and its connection has not taken yet (the AMQP and
// STOMP sessions' `poll_event`).
//
// A vector read from the front and emptied, keeping its capacity, once every event was
// taken; not a deque: an event that holds a message is about as large as a deque's block,
// so a deque would allocate for nearly every one.
#ifndef COURIER_SRC_BROKER_EVENT_QUEUE_HPP
#define COURIER_SRC_BROKER_EVENT_QUEUE_HPP

#include <cstddef>
#include <optional>
#include <utility>
#include <vector>

namespace courier::broker {

template <class Event> class event_queue
{
public:
    template <class... Args> void emplace_back(Args&&... args) { events_.emplace_back(std::forward<Args>(args)...); }

    /// The oldest event not taken yet; nullopt when every one was.
    std::optional<Event> poll()
    {
        if (next_ == events_.size())
        {
            events_.clear();
            next_ = 0;
            return std::nullopt;
        }
        return std::move(events_[next_++]);
    }

private:
    std::vector<Event> events_;
    std::size_t next_ = 0; // the first not taken
};

} // namespace courier::broker

#endif
