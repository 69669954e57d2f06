// Delivery counts for providers that do not count deliveries themselves (a broker knows at
// most whether a message was delivered before). The route remembers how often it saw each
// message id, for the most recent ids only, so that `message::receive_count`, and with it
// `retry_with_backoff`, work on every provider.
#ifndef COURIER_SRC_CORE_DELIVERY_COUNTS_HPP
#define COURIER_SRC_CORE_DELIVERY_COUNTS_HPP

#include <courier/message.hpp>
#include <courier/provider.hpp>

#include <algorithm>
#include <cstdint>
#include <list>
#include <string>
#include <unordered_map>

namespace courier::detail {

class delivery_counts
{
public:
    /// Remembers at most `capacity` ids (the least recently seen are forgotten first).
    explicit delivery_counts(std::size_t capacity)
        : capacity_(std::max<std::size_t>(capacity, 1))
    {
    }

    /// Sets `msg.receive_count` (and `redelivered`) from what the provider knows (`info`)
    /// and from the deliveries of this id seen before.
    void count(message& msg, redelivery_info info)
    {
        if (info == redelivery_info::exact_count)
        {
            msg.redelivered = msg.receive_count > 1;
            return;
        }
        // With `flag`, the provider's receive_count is a lower bound (a broker provider
        // counts the copies its own retries made, in a header); 1 if it knows nothing.
        const std::uint32_t known = std::max<std::uint32_t>(msg.receive_count, 1);
        if (info == redelivery_info::flag && !msg.redelivered)
        {
            // The provider says this copy is delivered for the first time: whatever this id
            // did before, the provider's count covers it. A count of 1 is not stored: an id
            // not remembered counts as 0, and a redelivery is at least the second, so the
            // outcome is the same, and a broker's first deliveries (nearly all of them) cost
            // one lookup in a table that stays small instead of an insertion and an eviction.
            if (known == 1)
                forget(msg.id);
            else
                remember(msg.id, known);
            msg.receive_count = known;
            msg.redelivered = known > 1;
            return;
        }
        std::uint32_t n = std::max(seen(msg.id) + 1, info == redelivery_info::flag ? known : 1u);
        if (msg.redelivered)
            n = std::max<std::uint32_t>(n, 2);
        remember(msg.id, n);
        msg.receive_count = n;
        msg.redelivered = n > 1;
    }

    std::size_t size() const noexcept { return counts_.size(); }

private:
    using lru = std::list<std::string>;

    std::uint32_t seen(const std::string& id) const
    {
        const auto it = counts_.find(id);
        return it == counts_.end() ? 0 : it->second.first;
    }

    void forget(const std::string& id)
    {
        if (counts_.empty())
            return;
        const auto it = counts_.find(id);
        if (it == counts_.end())
            return;
        order_.erase(it->second.second);
        counts_.erase(it);
    }

    void remember(const std::string& id, std::uint32_t n)
    {
        const auto it = counts_.find(id);
        if (it != counts_.end())
        {
            it->second.first = n;
            order_.splice(order_.end(), order_, it->second.second);
            return;
        }
        if (counts_.size() == capacity_)
        {
            counts_.erase(order_.front());
            order_.pop_front();
        }
        order_.push_back(id);
        counts_.emplace(id, std::make_pair(n, std::prev(order_.end())));
    }

    std::size_t capacity_;
    lru order_; // least recently seen first
    std::unordered_map<std::string, std::pair<std::uint32_t, lru::iterator>> counts_;
};

} // namespace courier::detail

#endif
