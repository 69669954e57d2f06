// The payloads waiting for a consumer, in the queue's order: FIFO, LIFO, or by priority
// (lowest first, ties in the order they came, as a Python PriorityQueue of
// (priority, sequence) pairs). A plain container, no I/O: unit-tested on its own.
#ifndef COURIER_SRC_COLLECTOR_PENDING_QUEUE_HPP
#define COURIER_SRC_COLLECTOR_PENDING_QUEUE_HPP

#include <courier/collector/queue_options.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <utility>
#include <vector>

namespace courier::event_collector::detail {

template <class Item> class pending_queue
{
public:
    explicit pending_queue(queue_type type)
        : type_(type)
    {
    }

    void push(Item item, int priority)
    {
        if (type_ != queue_type::priority)
        {
            list_.push_back(std::move(item));
            return;
        }
        heap_.push_back(entry{priority, next_sequence_++, std::move(item)});
        std::push_heap(heap_.begin(), heap_.end(), later);
    }

    /// Takes the next item; the queue must not be empty.
    Item pop()
    {
        if (type_ == queue_type::priority)
        {
            std::pop_heap(heap_.begin(), heap_.end(), later);
            Item item = std::move(heap_.back().item);
            heap_.pop_back();
            return item;
        }
        const bool newest = type_ == queue_type::lifo;
        Item item = std::move(newest ? list_.back() : list_.front());
        if (newest)
            list_.pop_back();
        else
            list_.pop_front();
        return item;
    }

    /// Takes every item, in no particular order.
    std::vector<Item> take_all()
    {
        std::vector<Item> all;
        all.reserve(size());
        for (auto& i : list_)
            all.push_back(std::move(i));
        for (auto& e : heap_)
            all.push_back(std::move(e.item));
        list_.clear();
        heap_.clear();
        return all;
    }

    std::size_t size() const noexcept { return list_.size() + heap_.size(); }
    bool empty() const noexcept { return size() == 0; }

private:
    struct entry
    {
        int priority;
        std::uint64_t sequence;
        Item item;
    };

    // std::push_heap keeps the greatest on top; "greater" here is "served earlier".
    static bool later(const entry& a, const entry& b) noexcept
    {
        return a.priority != b.priority ? a.priority > b.priority : a.sequence > b.sequence;
    }

    queue_type type_;
    std::deque<Item> list_;
    std::vector<entry> heap_;
    std::uint64_t next_sequence_ = 0;
};

} // namespace courier::event_collector::detail

#endif
