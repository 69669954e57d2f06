// A payload's shared state: storing results, completing, and waking whoever waits, on
// whichever executor and thread they wait.
#include "collector/remote_waiter.hpp"

#include <courier/collector/detail/event_state.hpp>
#include <courier/collector/event.hpp>

#include <boost/asio/async_result.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace asio = boost::asio;

namespace courier::event_collector {
namespace detail {

using event_waiter = remote_waiter<boost::system::error_code>;

event_state::~event_state() = default;

result* event_state::result_slots(std::size_t n)
{
    stored_ = n;
    if (n == 1)
        return &one_;
    many_.resize(n);
    return many_.data();
}

void event_state::complete(result_list results) noexcept
{
    list_ = std::move(results);
    has_list_ = true;
    complete_stored();
}

void event_state::complete_stored() noexcept
{
    drop_payload();
    done_.store(true, std::memory_order_seq_cst);
    if (has_waiters_.load(std::memory_order_seq_cst))
        wake_waiters();
}

void event_state::wake_waiters() noexcept
{
    std::vector<std::shared_ptr<event_waiter>> woken;
    {
        std::lock_guard lock(mutex_);
        woken.swap(waiters_);
    }
    for (auto& w : woken)
        w->complete({});
}

result_list event_state::results(const std::shared_ptr<const event_state>& self) const
{
    if (has_list_)
        return list_;
    if (stored_ == 0)
        return {};
    if (stored_ == 1)
        return result_list(self, std::span<const result>(&one_, 1));
    return result_list(self, std::span<const result>(many_));
}

asio::awaitable<void> event_state::wait_done()
{
    if (done())
        co_return;
    co_await asio::async_initiate<decltype(asio::use_awaitable), void(boost::system::error_code)>(
        [this](auto handler) {
            auto w = event_waiter::make(std::move(handler), {}, asio::error::operation_aborted);
            has_waiters_.store(true, std::memory_order_seq_cst);
            {
                std::lock_guard lock(mutex_);
                if (!done_.load(std::memory_order_seq_cst))
                {
                    waiters_.push_back(std::move(w));
                    return;
                }
            }
            w->complete({});
        },
        asio::use_awaitable);
}

} // namespace detail

namespace {

asio::awaitable<result_list> wait_for(std::shared_ptr<detail::event_state> state)
{
    co_await state->wait_done();
    co_return state->results(state);
}

} // namespace

asio::awaitable<result_list> collector_event::wait() const
{
    // The state travels by value: the awaitable may outlive this handle.
    return wait_for(state_);
}

} // namespace courier::event_collector
