// The messages of a route between receipt and settlement.
//
// Entries are list nodes with stable addresses, reused for later messages (a message costs
// no allocation of its own in the steady state). An entry is also the listener of its own
// acknowledgement when the provider confirms acks by callback.
#ifndef COURIER_SRC_CORE_IN_FLIGHT_HPP
#define COURIER_SRC_CORE_IN_FLIGHT_HPP

#include <courier/clock.hpp>
#include <courier/message.hpp>
#include <courier/provider.hpp>

#include <exception>
#include <list>

namespace courier::detail {

struct in_flight_message;

/// Told when a message's acknowledgement by callback is over (the route runner).
class ack_confirmation
{
public:
    virtual void confirmed(in_flight_message& entry, std::exception_ptr error) noexcept = 0;

protected:
    ~ack_confirmation() = default;
};

struct in_flight_message final : ack_listener
{
    void acked(const message&, std::exception_ptr error) noexcept override
    {
        owner->confirmed(*this, std::move(error));
    }

    message msg;
    /// When the receive that brought it began (no later than the provider's own receipt).
    clock::time_point received_at{};
    /// The heartbeat still extends its visibility.
    bool extending = true;
    /// The running message of its FIFO group (only the running one moves the group on).
    bool group_head = false;
    /// To be given back without being started (its FIFO group broke, or the route stops).
    bool give_back = false;
    /// When its settlement began (only measured for the acknowledgement latency histogram).
    clock::time_point settle_started{};
    ack_confirmation* owner = nullptr;
    std::list<in_flight_message>::iterator self;
};

class in_flight_table
{
public:
    using entry = std::list<in_flight_message>::iterator;

    explicit in_flight_table(ack_confirmation& owner)
        : owner_(owner)
    {
    }

    entry add(message&& msg, clock::time_point received_at)
    {
        if (spare_.empty())
        {
            spare_.emplace_back();
            spare_.back().owner = &owner_;
            spare_.back().self = std::prev(spare_.end());
        }
        const entry e = spare_.begin();
        entries_.splice(entries_.end(), spare_, e); // iterators stay valid across lists
        e->msg = std::move(msg);
        e->received_at = received_at;
        e->extending = true;
        e->group_head = false;
        e->give_back = false;
        return e;
    }

    /// Keeps the node for the next message. Its contents go now, so idle spares hold no
    /// message bodies; the spare list never outgrows the peak in flight.
    void remove(entry e)
    {
        e->msg = message{};
        spare_.splice(spare_.end(), entries_, e);
    }

    std::size_t size() const noexcept { return entries_.size(); }
    bool empty() const noexcept { return entries_.empty(); }
    auto begin() noexcept { return entries_.begin(); }
    auto end() noexcept { return entries_.end(); }

private:
    ack_confirmation& owner_;
    std::list<in_flight_message> entries_;
    std::list<in_flight_message> spare_;
};

} // namespace courier::detail

#endif
