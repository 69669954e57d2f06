// The in-memory queue with SQS semantics (see include/courier/memory/provider.hpp): its
// operations, over the storage in queue_state.hpp.
#include "memory/queue_state.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

namespace courier {

namespace {

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

memory_provider::memory_provider(memory_queue_options options)
    : state_(std::make_unique<state>(std::move(options)))
{
    if (state_->options.visibility_timeout <= std::chrono::milliseconds::zero())
        throw error(errc::bad_configuration, "memory queue: visibility_timeout must be positive",
                    {.queue = state_->options.name});
    if (state_->options.max_receive_count != 0 && !state_->options.dead_letter_queue)
        throw error(errc::bad_configuration, "memory queue: max_receive_count needs a dead_letter_queue",
                    {.queue = state_->options.name});
}

memory_provider::~memory_provider() = default;

std::string memory_provider::send(outgoing_message msg)
{
    auto& s = *state_;
    std::lock_guard lock(s.mutex);
    const auto now = s.clock->now();
    const auto sequence = s.next_sequence++;
    auto& m = s.allocate();
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

std::string memory_provider::name() const
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
        std::vector<std::pair<std::string, std::uint32_t>> dead_lettered;
        std::vector<message> taken;
        bool waiting = false;
        {
            std::lock_guard lock(s.mutex);
            const auto now = s.clock->now();
            s.promote(now);
            taken = s.take(max, now);
            dead_lettered.swap(s.moved_to_dead_letters);
            if (taken.empty() && now < wait_until)
            {
                // Also wake when the next hidden message becomes visible.
                if (!s.hidden.empty() && s.hidden.begin()->visible_at < wake_at)
                    wake_at = s.hidden.begin()->visible_at;
                s.waiters.push_back(waiter);
                waiting = true;
            }
        }
        // Logged outside the lock: a sink may take its time.
        for (const auto& [id, receives] : dead_lettered)
            s.options.log.log(log_level::warning, {}, id, "{}: moved to the dead-letter queue {} after {} receives",
                              name(), s.options.dead_letter_queue->name(), receives);
        if (!waiting)
            co_return taken;
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
    delete_now(msg);
    co_return;
}

void memory_provider::start_ack(const message& msg, ack_listener& listener)
{
    std::exception_ptr error;
    try
    {
        delete_now(msg);
    }
    catch (...)
    {
        error = std::current_exception();
    }
    listener.acked(msg, std::move(error));
}

void memory_provider::delete_now(const message& msg)
{
    auto& s = *state_;
    std::lock_guard lock(s.mutex);
    // No promote: a delivery whose visibility ran out but was not handed out again may
    // still be deleted (as on SQS), and detach finds it in either index.
    auto& m = s.lookup(msg, "ack");
    s.detach(m);
    s.unlock_group(m);
    ++s.totals.acked;
    s.release(m);
}

asio::awaitable<void> memory_provider::release(const message& msg)
{
    return retry(msg, std::chrono::milliseconds::zero());
}

asio::awaitable<void> memory_provider::retry(const message& msg, std::chrono::milliseconds delay)
{
    auto& s = *state_;
    std::lock_guard lock(s.mutex);
    s.promote(s.clock->now());
    auto& m = s.lookup(msg, delay > std::chrono::milliseconds::zero() ? "retry" : "release");
    s.detach(m);
    if (delay > std::chrono::milliseconds::zero())
        s.hide(m, s.clock->now() + delay);
    else
        s.make_visible(m);
    co_return;
}

asio::awaitable<void> memory_provider::extend(const message& msg, std::chrono::milliseconds extension)
{
    auto& s = *state_;
    std::lock_guard lock(s.mutex);
    const auto now = s.clock->now();
    s.promote(now);
    auto& m = s.lookup(msg, "extend");
    if (!m.in_flight)
        throw error(errc::stale_receipt, "visibility timeout already expired",
                    {.message_id = msg.id, .action = "extend", .queue = s.options.name});
    if (now + extension > m.received_at + s.options.max_visibility)
        throw error(errc::visibility_limit,
                    fmt::format("total visibility would exceed {} ms since receipt", s.options.max_visibility.count()),
                    {.message_id = msg.id, .action = "extend", .queue = s.options.name});
    s.hidden.erase(s.hidden.iterator_to(m));
    s.hide(m, now + extension);
    co_return;
}

void memory_provider::leave(const message&)
{
}

std::chrono::milliseconds memory_provider::visibility_timeout() const
{
    return state_->options.visibility_timeout;
}

std::chrono::milliseconds memory_provider::max_visibility() const
{
    return state_->options.max_visibility;
}

provider_capabilities memory_provider::capabilities()
{
    return {.visibility = this, .retry = this, .ack_callback = this, .redelivery = redelivery_info::exact_count};
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
