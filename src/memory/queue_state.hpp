// The in-memory queue's storage (see include/courier/memory/provider.hpp).
//
// Messages live in a slot table. A message is in exactly one of two indexes: `visible`
// (ordered by sequence, so the oldest is received first and FIFO groups keep their order) or
// `hidden` (ordered by the time it becomes visible: in flight, delayed, or waiting for a
// retry). Every operation first moves the hidden messages whose time has come back to
// `visible`.
//
// A receipt names the message's slot and the delivery, so ack/retry/extend find their
// message by index rather than by hashing, and a deleted message's slot and object are
// reused by the next send: a message costs no allocation of its own in the steady state.
// Included by src/memory/provider.cpp only.
#ifndef COURIER_SRC_MEMORY_QUEUE_STATE_HPP
#define COURIER_SRC_MEMORY_QUEUE_STATE_HPP

#include <courier/error.hpp>
#include <courier/memory/provider.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/intrusive/set.hpp>

#include <charconv>
#include <limits>
#include <list>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace courier {

namespace memory_queue {

namespace asio = boost::asio;
namespace intrusive = boost::intrusive;

struct stored_message
{
    std::uint32_t slot = 0;
    std::uint64_t sequence = 0;
    std::string id;
    std::string body;
    attribute_map attributes;
    std::string group_id;
    std::chrono::system_clock::time_point sent_at;
    std::uint32_t receive_count = 0;
    std::uint64_t delivery = 0; // the queue's delivery number; part of the receipt
    bool in_flight = false;
    // FIFO: counted in its group's lock, from its delivery until it is visible again or
    // deleted (a retried message keeps its group locked while it waits, as on SQS).
    bool locks_group = false;
    clock::time_point received_at{}; // of the current delivery
    clock::time_point visible_at{};
    // The two indexes are intrusive: moving a message between them allocates nothing.
    // Safe-mode hooks know whether they are linked, which tells `detach` the index.
    intrusive::set_member_hook<> visible_hook;
    intrusive::set_member_hook<> hidden_hook;
};

struct by_sequence
{
    bool operator()(const stored_message& a, const stored_message& b) const { return a.sequence < b.sequence; }
};

struct by_visible_at
{
    bool operator()(const stored_message& a, const stored_message& b) const { return a.visible_at < b.visible_at; }
};

using visible_index =
    intrusive::set<stored_message,
                   intrusive::member_hook<stored_message, intrusive::set_member_hook<>, &stored_message::visible_hook>,
                   intrusive::compare<by_sequence>>;
using hidden_index = intrusive::multiset<
    stored_message, intrusive::member_hook<stored_message, intrusive::set_member_hook<>, &stored_message::hidden_hook>,
    intrusive::compare<by_visible_at>>;

struct receipt_parts
{
    std::uint32_t slot = 0;
    std::uint64_t delivery = 0;
};

// Receipts are "<slot>.<delivery>". Delivery numbers are never reused, so a receipt
// names one delivery of one message even after its slot went to another message.
inline bool parse_receipt(std::string_view receipt, receipt_parts& out)
{
    const auto dot = receipt.find('.');
    if (dot == std::string_view::npos)
        return false;
    const char* end = receipt.data() + receipt.size();
    auto r1 = std::from_chars(receipt.data(), receipt.data() + dot, out.slot);
    auto r2 = std::from_chars(receipt.data() + dot + 1, end, out.delivery);
    return r1.ec == std::errc{} && r1.ptr == receipt.data() + dot && r2.ec == std::errc{} && r2.ptr == end;
}

inline std::string make_receipt(std::uint32_t slot, std::uint64_t delivery)
{
    char buffer[10 + 1 + 20];
    // A 32-bit and a 64-bit number always fit: to_chars cannot fail here.
    char* dot = std::to_chars(buffer, buffer + 10, slot).ptr;
    *dot = '.';
    char* end = std::to_chars(dot + 1, dot + 21, delivery).ptr;
    return std::string(buffer, end);
}

// A coroutine parked in `receive`; woken by cancelling its timer on its own executor.
struct receive_waiter
{
    explicit receive_waiter(const asio::any_io_executor& ex)
        : timer(ex, asio::steady_timer::time_point::max())
    {
    }
    asio::steady_timer timer;
};

} // namespace memory_queue

using namespace memory_queue;

struct memory_provider::state
{
    explicit state(memory_queue_options o)
        : options(std::move(o)),
          clock(options.clock ? options.clock : steady_clock())
    {
    }

    memory_queue_options options;
    std::shared_ptr<courier::clock> clock;
    mutable std::mutex mutex;
    std::uint64_t next_sequence = 1;
    std::uint64_t next_delivery = 1;
    std::vector<std::unique_ptr<stored_message>> slots; // null: free
    std::vector<std::uint32_t> free_slots;
    // Deleted messages' objects, kept for the next sends (at most max_spare of them).
    std::vector<std::unique_ptr<stored_message>> spare;
    static constexpr std::size_t max_spare = 1024;
    // Declared after the slots, so they are destroyed (and unlink) first.
    visible_index visible;
    hidden_index hidden;
    std::unordered_map<std::string, std::size_t> groups_in_flight; // FIFO only
    std::list<std::shared_ptr<receive_waiter>> waiters;
    // Ids moved to the dead-letter queue (with their receive counts), logged once the
    // mutex is released.
    std::vector<std::pair<std::string, std::uint32_t>> moved_to_dead_letters;
    memory_queue_counts totals;

    stored_message& allocate()
    {
        std::unique_ptr<stored_message> m;
        if (spare.empty())
            m = std::make_unique<stored_message>();
        else
        {
            m = std::move(spare.back());
            spare.pop_back();
        }
        if (free_slots.empty())
        {
            if (slots.size() > std::numeric_limits<std::uint32_t>::max())
                throw error(errc::bad_configuration, "memory queue is full (2^32 messages)", {.queue = options.name});
            m->slot = static_cast<std::uint32_t>(slots.size());
            slots.emplace_back();
        }
        else
        {
            m->slot = free_slots.back();
            free_slots.pop_back();
        }
        auto& stored = *(slots[m->slot] = std::move(m));
        return stored;
    }

    // Deletes a message that is in neither index.
    void release(stored_message& m)
    {
        auto owned = std::move(slots[m.slot]);
        free_slots.push_back(m.slot);
        if (free_slots.size() == slots.size() && slots.size() > max_spare)
        {
            // Drained after a large backlog: give the tables' memory back too.
            slots = decltype(slots)();
            free_slots = decltype(free_slots)();
        }
        if (spare.size() == max_spare)
            return;
        // Reset in place: the strings give back their memory, the hooks are unlinked.
        owned->body = std::string();
        owned->attributes.clear();
        owned->group_id = std::string();
        owned->receive_count = 0;
        owned->delivery = 0; // no receipt of the deleted message may match the next one
        owned->in_flight = false;
        owned->locks_group = false;
        spare.push_back(std::move(owned));
    }

    void hide(stored_message& m, clock::time_point until)
    {
        m.visible_at = until;
        hidden.insert(m);
    }

    void unhide(stored_message& m)
    {
        hidden.erase(hidden.iterator_to(m));
        make_visible(m);
    }

    void make_visible(stored_message& m)
    {
        m.in_flight = false;
        unlock_group(m);
        visible.insert(m);
        wake_receivers();
    }

    // Takes the message out of whichever index holds it.
    void detach(stored_message& m)
    {
        if (m.visible_hook.is_linked())
            visible.erase(visible.iterator_to(m));
        else if (m.hidden_hook.is_linked())
            hidden.erase(hidden.iterator_to(m));
        m.in_flight = false;
    }

    void unlock_group(stored_message& m)
    {
        if (!m.locks_group)
            return;
        m.locks_group = false;
        auto it = groups_in_flight.find(m.group_id);
        if (it != groups_in_flight.end() && --it->second == 0)
            groups_in_flight.erase(it);
    }

    // Moves every hidden message whose time has come back to `visible`.
    void promote(clock::time_point now)
    {
        while (!hidden.empty() && hidden.begin()->visible_at <= now)
            unhide(*hidden.begin());
    }

    void wake_receivers()
    {
        for (auto& w : waiters)
            asio::post(w->timer.get_executor(), [w] { w->timer.cancel(); });
        waiters.clear();
    }

    // Finds the message a receipt was issued for; throws stale_receipt if it was
    // deleted or delivered again since.
    stored_message& lookup(const message& msg, const char* action)
    {
        receipt_parts parts;
        if (!parse_receipt(msg.receipt, parts))
            throw error(errc::stale_receipt, "malformed receipt",
                        {.message_id = msg.id, .action = action, .queue = options.name});
        stored_message* m = parts.slot < slots.size() ? slots[parts.slot].get() : nullptr;
        // Delivery 0 is never issued: it marks a message not delivered yet.
        if (m == nullptr || parts.delivery == 0 || m->delivery != parts.delivery)
        {
            ++totals.stale_receipts;
            // The slot may hold another message by now: the id tells.
            const bool same_message = m != nullptr && m->id == msg.id;
            throw error(errc::stale_receipt,
                        same_message ? "message was delivered again since this receipt" : "message was already deleted",
                        {.message_id = msg.id, .action = action, .queue = options.name});
        }
        return *m;
    }

    // Takes up to `max` visible messages; FIFO groups with a message in flight are
    // skipped, and a group taken in this batch stays with this batch.
    std::vector<message> take(std::size_t max, clock::time_point now);
};

inline std::vector<message> memory_provider::state::take(std::size_t max, clock::time_point now)
{
    std::vector<message> out;
    out.reserve(std::min(max, visible.size()));
    std::unordered_map<std::string, bool> taken_groups;
    for (auto it = visible.begin(); it != visible.end() && out.size() < max;)
    {
        stored_message& m = *it;
        if (options.fifo && !m.group_id.empty() && groups_in_flight.count(m.group_id) != 0 &&
            !taken_groups.count(m.group_id))
        {
            ++it;
            continue;
        }
        it = visible.erase(it);
        if (options.max_receive_count != 0 && m.receive_count >= options.max_receive_count && options.dead_letter_queue)
        {
            // Redrive: the message has had its chances; move it to the dead-letter queue.
            outgoing_message dead{
                .body = std::move(m.body), .attributes = std::move(m.attributes), .group_id = m.group_id};
            ++totals.dead_lettered;
            moved_to_dead_letters.emplace_back(m.id, m.receive_count);
            release(m);
            options.dead_letter_queue->send(std::move(dead));
            continue;
        }
        ++m.receive_count;
        m.delivery = next_delivery++;
        ++totals.deliveries;
        m.in_flight = true;
        m.received_at = now;
        if (options.fifo && !m.group_id.empty())
        {
            m.locks_group = true;
            ++groups_in_flight[m.group_id];
            taken_groups[m.group_id] = true;
        }
        hide(m, now + options.visibility_timeout);
        message& delivered = out.emplace_back();
        delivered.id = m.id;
        delivered.receipt = make_receipt(m.slot, m.delivery);
        delivered.body = m.body;
        delivered.attributes = m.attributes;
        delivered.receive_count = m.receive_count;
        delivered.group_id = m.group_id;
        delivered.sent_at = m.sent_at;
    }
    return out;
}

} // namespace courier

#endif
