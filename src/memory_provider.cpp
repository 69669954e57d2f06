// The in-memory queue with SQS semantics (see memory_provider.hpp).
//
// Messages live in `messages_` by sequence number. A message is in exactly one of two
// indexes: `visible_` (ordered by sequence, so the oldest is received first and FIFO
// groups keep their order) or `hidden_` (ordered by the time it becomes visible: in
// flight, delayed, or waiting for a retry). Every operation first moves the hidden
// messages whose time has come back to `visible_`.
#include <courier/error.hpp>
#include <courier/memory_provider.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <boost/intrusive/set.hpp>

#include <fmt/format.h>

#include <charconv>
#include <list>
#include <mutex>
#include <unordered_map>

namespace asio = boost::asio;
namespace intrusive = boost::intrusive;
using namespace asio::experimental::awaitable_operators;

namespace courier {

namespace {

struct stored_message
{
    std::uint64_t sequence = 0;
    std::string id;
    std::string body;
    attribute_map attributes;
    std::string group_id;
    std::chrono::system_clock::time_point sent_at;
    std::uint32_t receive_count = 0;
    std::uint64_t generation = 0; // bumped on every delivery; part of the receipt
    bool in_flight = false;
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
using hidden_index =
    intrusive::multiset<stored_message,
                        intrusive::member_hook<stored_message, intrusive::set_member_hook<>, &stored_message::hidden_hook>,
                        intrusive::compare<by_visible_at>>;

struct receipt_parts
{
    std::uint64_t sequence = 0;
    std::uint64_t generation = 0;
};

// Receipts are "<sequence>.<generation>": unique per delivery and cheap to look up.
bool parse_receipt(std::string_view receipt, receipt_parts& out)
{
    const auto dot = receipt.find('.');
    if (dot == std::string_view::npos)
        return false;
    const char* end = receipt.data() + receipt.size();
    auto r1 = std::from_chars(receipt.data(), receipt.data() + dot, out.sequence);
    auto r2 = std::from_chars(receipt.data() + dot + 1, end, out.generation);
    return r1.ec == std::errc{} && r2.ec == std::errc{} && r2.ptr == end;
}

std::string make_receipt(std::uint64_t sequence, std::uint64_t generation)
{
    char buffer[2 * 20 + 1];
    // Two 64-bit numbers always fit: to_chars cannot fail here.
    char* dot = std::to_chars(buffer, buffer + 20, sequence).ptr;
    *dot = '.';
    char* end = std::to_chars(dot + 1, dot + 21, generation).ptr;
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

// The two sides of a waiting receive. Each runs as its own coroutine inside `||`, and a
// new coroutine accepts only terminal cancellation by default: these accept the total
// cancellation with which a stopping dispatcher ends a receive.
asio::awaitable<void> wait_for_send(std::shared_ptr<receive_waiter> waiter)
{
    co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
    co_await waiter->timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

asio::awaitable<void> sleep_until(courier::clock& clock, clock::time_point deadline)
{
    co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
    co_await clock.sleep_until(deadline);
}

} // namespace

struct memory_provider::state
{
    explicit state(memory_queue_options o)
        : options(std::move(o)), clock(options.clock ? options.clock : steady_clock())
    {
    }

    memory_queue_options options;
    std::shared_ptr<courier::clock> clock;
    mutable std::mutex mutex;
    std::uint64_t next_sequence = 1;
    std::unordered_map<std::uint64_t, stored_message> messages;
    // Declared after `messages`, so they are destroyed (and unlink) first.
    visible_index visible;
    hidden_index hidden;
    std::unordered_map<std::string, std::size_t> groups_in_flight; // FIFO only
    std::list<std::shared_ptr<receive_waiter>> waiters;
    memory_queue_counts totals;

    void hide(stored_message& m, clock::time_point until)
    {
        m.visible_at = until;
        hidden.insert(m);
    }

    void unhide(stored_message& m)
    {
        hidden.erase(hidden.iterator_to(m));
        end_flight(m);
        visible.insert(m);
    }

    // Takes the message out of whichever index holds it.
    void detach(stored_message& m)
    {
        if (m.visible_hook.is_linked())
            visible.erase(visible.iterator_to(m));
        else if (m.hidden_hook.is_linked())
            hidden.erase(hidden.iterator_to(m));
        end_flight(m);
    }

    void end_flight(stored_message& m)
    {
        if (!m.in_flight)
            return;
        m.in_flight = false;
        if (options.fifo && !m.group_id.empty())
        {
            auto it = groups_in_flight.find(m.group_id);
            if (it != groups_in_flight.end() && --it->second == 0)
                groups_in_flight.erase(it);
        }
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
            throw error(errc::stale_receipt, "malformed receipt", {.message_id = msg.id, .action = action, .queue = options.name});
        auto it = messages.find(parts.sequence);
        if (it == messages.end() || it->second.generation != parts.generation)
        {
            ++totals.stale_receipts;
            throw error(errc::stale_receipt,
                        it == messages.end() ? "message was already deleted"
                                             : "message was delivered again since this receipt",
                        {.message_id = msg.id, .action = action, .queue = options.name});
        }
        return it->second;
    }

    // Takes up to `max` visible messages; FIFO groups with a message in flight are
    // skipped, and a group taken in this batch stays with this batch.
    std::vector<message> take(std::size_t max, clock::time_point now);
};

std::vector<message> memory_provider::state::take(std::size_t max, clock::time_point now)
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
        if (options.max_receive_count != 0 && m.receive_count >= options.max_receive_count &&
            options.dead_letter_queue)
        {
            // Redrive: the message has had its chances; move it to the dead-letter queue.
            outgoing_message dead{.body = std::move(m.body), .attributes = std::move(m.attributes), .group_id = m.group_id};
            ++totals.dead_lettered;
            messages.erase(m.sequence);
            options.dead_letter_queue->send(std::move(dead));
            continue;
        }
        ++m.receive_count;
        ++m.generation;
        ++totals.deliveries;
        m.in_flight = true;
        if (options.fifo && !m.group_id.empty())
        {
            ++groups_in_flight[m.group_id];
            taken_groups[m.group_id] = true;
        }
        hide(m, now + options.visibility_timeout);
        message& delivered = out.emplace_back();
        delivered.id = m.id;
        delivered.receipt = make_receipt(m.sequence, m.generation);
        delivered.body = m.body;
        delivered.attributes = m.attributes;
        delivered.receive_count = m.receive_count;
        delivered.group_id = m.group_id;
        delivered.sent_at = m.sent_at;
    }
    return out;
}

memory_provider::memory_provider(memory_queue_options options)
    : state_(std::make_unique<state>(std::move(options)))
{
    if (state_->options.visibility_timeout <= std::chrono::milliseconds::zero())
        throw error(errc::bad_configuration, "memory queue: visibility_timeout must be positive",
                    {.queue = state_->options.name});
    if (state_->options.max_receive_count != 0 && !state_->options.dead_letter_queue)
        throw error(errc::bad_configuration,
                    "memory queue: max_receive_count needs a dead_letter_queue",
                    {.queue = state_->options.name});
}

memory_provider::~memory_provider() = default;

std::string memory_provider::send(outgoing_message msg)
{
    auto& s = *state_;
    std::lock_guard lock(s.mutex);
    const auto now = s.clock->now();
    const auto sequence = s.next_sequence++;
    auto& m = s.messages[sequence];
    m.sequence = sequence;
    m.id = fmt::format("{}-{}", s.options.name, sequence);
    m.body = std::move(msg.body);
    m.attributes = std::move(msg.attributes);
    m.group_id = std::move(msg.group_id);
    m.sent_at = std::chrono::system_clock::now();
    ++s.totals.sent;
    if (msg.delay > std::chrono::milliseconds::zero())
        s.hide(m, now + msg.delay);
    else
    {
        s.visible.insert(m);
        s.wake_receivers();
    }
    return m.id;
}

std::string memory_provider::send(std::string body)
{
    return send(outgoing_message{.body = std::move(body)});
}

asio::awaitable<std::string> memory_provider::publish(outgoing_message msg)
{
    co_return send(std::move(msg));
}

std::string memory_provider::describe() const
{
    return "memory:" + state_->options.name;
}

asio::awaitable<std::vector<message>> memory_provider::receive(std::size_t max)
{
    auto& s = *state_;
    const auto wait_until = s.clock->now() + s.options.receive_wait;
    for (;;)
    {
        auto waiter = std::make_shared<receive_waiter>(co_await asio::this_coro::executor);
        clock::time_point wake_at = wait_until;
        {
            std::lock_guard lock(s.mutex);
            const auto now = s.clock->now();
            s.promote(now);
            auto taken = s.take(max, now);
            if (!taken.empty() || now >= wait_until)
                co_return taken;
            // Also wake when the next hidden message becomes visible.
            if (!s.hidden.empty() && s.hidden.begin()->visible_at < wake_at)
                wake_at = s.hidden.begin()->visible_at;
            s.waiters.push_back(waiter);
        }
        co_await (wait_for_send(waiter) || sleep_until(*s.clock, wake_at));
        {
            std::lock_guard lock(s.mutex);
            s.waiters.remove(waiter);
        }
        auto cs = co_await asio::this_coro::cancellation_state;
        if (cs.cancelled() != asio::cancellation_type::none)
            throw boost::system::system_error(asio::error::operation_aborted);
    }
}

asio::awaitable<void> memory_provider::ack(const message& msg)
{
    auto& s = *state_;
    std::lock_guard lock(s.mutex);
    // No promote: a delivery whose visibility ran out but was not handed out again may
    // still be deleted (as on SQS), and detach finds it in either index.
    auto& m = s.lookup(msg, "ack");
    s.detach(m);
    ++s.totals.acked;
    s.messages.erase(m.sequence);
    co_return;
}

asio::awaitable<void> memory_provider::retry_after(const message& msg, std::chrono::milliseconds delay)
{
    auto& s = *state_;
    std::lock_guard lock(s.mutex);
    s.promote(s.clock->now());
    auto& m = s.lookup(msg, "retry");
    s.detach(m);
    if (delay > std::chrono::milliseconds::zero())
        s.hide(m, s.clock->now() + delay);
    else
    {
        s.visible.insert(m);
        s.wake_receivers();
    }
    co_return;
}

asio::awaitable<void> memory_provider::extend(const message& msg, std::chrono::milliseconds extension)
{
    auto& s = *state_;
    std::lock_guard lock(s.mutex);
    s.promote(s.clock->now());
    auto& m = s.lookup(msg, "extend");
    if (!m.in_flight)
        throw error(errc::stale_receipt, "visibility timeout already expired",
                    {.message_id = msg.id, .action = "extend", .queue = s.options.name});
    s.hidden.erase(s.hidden.iterator_to(m));
    s.hide(m, s.clock->now() + extension);
    co_return;
}

std::chrono::milliseconds memory_provider::visibility_timeout() const
{
    return state_->options.visibility_timeout;
}

asio::awaitable<void> memory_provider::close()
{
    // Nothing is buffered, and the queue outlives any one route that reads it.
    co_return;
}

memory_queue_counts memory_provider::counts() const
{
    auto& s = *state_;
    std::lock_guard lock(s.mutex);
    s.promote(s.clock->now());
    memory_queue_counts c = s.totals;
    c.visible = s.visible.size();
    c.in_flight = 0;
    c.delayed = 0;
    for (const auto& m : s.hidden)
        (m.in_flight ? c.in_flight : c.delayed)++;
    return c;
}

bool memory_provider::empty() const
{
    const auto c = counts();
    return c.visible == 0 && c.in_flight == 0 && c.delayed == 0;
}

} // namespace courier
