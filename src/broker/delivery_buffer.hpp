// The deliveries a subscription (AMQP's or STOMP's) received and its route has not taken
// yet, oldest first.
//
// A ring (Boost.CircularBuffer) that doubles when full and never overwrites; not a deque:
// an AMQP delivery with its properties is larger than a deque's block, so a deque would
// allocate and free a block for every delivery, where the ring reuses its slots. The broker
// keeps at most the prefetch unacknowledged, so the ring stops growing at about that.
#ifndef COURIER_SRC_BROKER_DELIVERY_BUFFER_HPP
#define COURIER_SRC_BROKER_DELIVERY_BUFFER_HPP

#include <boost/circular_buffer.hpp>

#include <algorithm>
#include <cstddef>
#include <utility>

namespace courier::broker {

template <class Delivery> class delivery_buffer
{
public:
    void push_back(Delivery&& d)
    {
        if (ring_.full())
            ring_.set_capacity(std::max<std::size_t>(16, 2 * ring_.capacity()));
        ring_.push_back(std::move(d));
    }

    Delivery& front() { return ring_.front(); }
    void pop_front() { ring_.pop_front(); }
    void clear() noexcept { ring_.clear(); }
    bool empty() const noexcept { return ring_.empty(); }
    std::size_t size() const noexcept { return ring_.size(); }
    auto begin() const { return ring_.begin(); }
    auto end() const { return ring_.end(); }

private:
    boost::circular_buffer<Delivery> ring_;
};

} // namespace courier::broker

#endif
