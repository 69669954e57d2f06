// FIFO group ordering, without I/O.
//
// Within a message group, a message starts only after the one before it was acknowledged.
// When a group's running message ends any other way (retried, left, released, an ack that
// was not confirmed, cancelled at shutdown), the group-mates waiting behind it are given back
// unstarted, so that the provider redelivers the group in order, after the one that failed
// (on SQS, nothing more of the group is delivered while that one is hidden). Other groups are
// not affected.
#ifndef COURIER_SRC_CORE_FIFO_GROUPS_HPP
#define COURIER_SRC_CORE_FIFO_GROUPS_HPP

#include <deque>
#include <optional>
#include <string>
#include <unordered_map>

namespace courier::detail {

/// Messages (as `Handle`s) by group: the running one, and those waiting behind it in order.
template <class Handle> class fifo_groups
{
public:
    /// A message of `group` arrived: true if it may start now (the first of its group in
    /// flight), false if it waits behind the running one.
    bool admit(const std::string& group, Handle message)
    {
        auto [entry, first] = groups_.try_emplace(group);
        if (!first)
            entry->second.push_back(message);
        return first;
    }

    /// The running message of `group` was acknowledged: the next one, which starts now.
    std::optional<Handle> acknowledged(const std::string& group)
    {
        const auto entry = groups_.find(group);
        if (entry == groups_.end())
            return std::nullopt;
        if (entry->second.empty())
        {
            groups_.erase(entry);
            return std::nullopt;
        }
        Handle next = entry->second.front();
        entry->second.pop_front();
        return next;
    }

    /// The running message of `group` ended otherwise: the messages waiting behind it, in
    /// order, to be given back unstarted. The group is no longer in flight.
    std::deque<Handle> broken(const std::string& group)
    {
        const auto entry = groups_.find(group);
        if (entry == groups_.end())
            return {};
        auto waiting = std::move(entry->second);
        groups_.erase(entry);
        return waiting;
    }

    /// Groups with a message in flight.
    std::size_t groups() const noexcept { return groups_.size(); }

private:
    std::unordered_map<std::string, std::deque<Handle>> groups_;
};

} // namespace courier::detail

#endif
