// The waiting payloads' order, without a queue around it.
#include "../test_support.hpp"
#include "collector/pending_queue.hpp"

#include <algorithm>

using courier::event_collector::queue_type;
using courier::event_collector::detail::pending_queue;

namespace {

std::vector<int> drain(pending_queue<int>& q)
{
    std::vector<int> out;
    while (!q.empty())
        out.push_back(q.pop());
    return out;
}

} // namespace

TEST_CASE("collector pending queue: fifo, lifo, and priority with ties in arrival order")
{
    pending_queue<int> fifo(queue_type::fifo), lifo(queue_type::lifo), prio(queue_type::priority);
    const int priorities[] = {5, 1, 3, 1, 0, 5};
    for (int i = 0; i < 6; ++i)
    {
        fifo.push(i, priorities[i]);
        lifo.push(i, priorities[i]);
        prio.push(i, priorities[i]);
    }
    CHECK(fifo.size() == 6);
    CHECK(drain(fifo) == std::vector<int>{0, 1, 2, 3, 4, 5});
    CHECK(drain(lifo) == std::vector<int>{5, 4, 3, 2, 1, 0});
    CHECK(drain(prio) == std::vector<int>{4, 1, 3, 2, 0, 5});
}

TEST_CASE("collector pending queue: take_all empties it")
{
    pending_queue<int> prio(queue_type::priority);
    prio.push(1, 2);
    prio.push(2, 1);
    auto all = prio.take_all();
    std::sort(all.begin(), all.end());
    CHECK(all == std::vector<int>{1, 2});
    CHECK(prio.empty());
}
