// What succeeded for messages whose handling partly failed, so that a redelivery redoes only
// the rest: the event router's listeners, a choreography's actions. One bit per step, kept
// in this process for a bounded number of messages (the oldest forgotten first).
#ifndef COURIER_SRC_EVENTS_PARTIAL_DELIVERIES_HPP
#define COURIER_SRC_EVENTS_PARTIAL_DELIVERIES_HPP

#include <courier/message.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

namespace courier::detail {

class partial_deliveries
{
public:
    explicit partial_deliveries(std::size_t capacity)
        : capacity_(capacity)
    {
    }

    /// The steps that succeeded on earlier deliveries of `msg` (a bit per step). A first
    /// delivery, or none remembered at all, costs no lock.
    std::uint64_t succeeded_before(const message& msg) const
    {
        if ((msg.receive_count <= 1 && !msg.redelivered) || count_.load(std::memory_order_relaxed) == 0)
            return 0;
        std::lock_guard lock(mutex_);
        const auto it = entries_.find(msg.id);
        return it == entries_.end() ? 0 : it->second.succeeded;
    }

    /// Remembers that `succeeded` steps of `msg` are done.
    void remember(const message& msg, std::uint64_t succeeded)
    {
        if (capacity_ == 0 || msg.id.empty())
            return;
        std::lock_guard lock(mutex_);
        const auto serial = ++next_serial_;
        entries_.insert_or_assign(msg.id, entry{succeeded, serial});
        order_.emplace_back(msg.id, serial);
        while (entries_.size() > capacity_ && !order_.empty())
        {
            // The oldest first; an id remembered again since keeps its newer entry.
            const auto& [id, at] = order_.front();
            if (const auto it = entries_.find(id); it != entries_.end() && it->second.serial == at)
                entries_.erase(it);
            order_.pop_front();
        }
        count_.store(entries_.size(), std::memory_order_relaxed);
    }

    /// Forgets `msg`: every step is done.
    void forget(const message& msg)
    {
        std::lock_guard lock(mutex_);
        entries_.erase(msg.id);
        count_.store(entries_.size(), std::memory_order_relaxed);
    }

private:
    struct entry
    {
        std::uint64_t succeeded;
        std::uint64_t serial;
    };
    const std::size_t capacity_;
    // Touched only after a failure or on a redelivery; the atomic count spares every other
    // message the lock.
    mutable std::mutex mutex_;
    std::unordered_map<std::string, entry> entries_;
    std::deque<std::pair<std::string, std::uint64_t>> order_;
    std::uint64_t next_serial_ = 0;
    std::atomic<std::size_t> count_{0};
};

} // namespace courier::detail

#endif
