// The shared state of one sent payload: the payload itself (until processed), where it
// goes, and, once every collector is done, its results and the wake-up of whoever waits.
//
// One allocation per payload: `send` makes an `event_node<T>` (payload included) with
// `std::make_shared`; the queue holds it while it waits and while collectors work on it,
// the `collector_event` handed to the sender holds it for as long as the sender wants.
// Results are written on the queue's executor; readers on any thread see them once
// `done()` is true.
#ifndef COURIER_COLLECTOR_DETAIL_EVENT_STATE_HPP
#define COURIER_COLLECTOR_DETAIL_EVENT_STATE_HPP

#include <courier/collector/payload.hpp>
#include <courier/collector/result.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace courier::event_collector::detail {

/// Someone waiting on another executor (defined where events are completed).
template <class... Args> class remote_waiter;

class event_state
{
public:
    event_state(const event_state&) = delete;
    event_state& operator=(const event_state&) = delete;
    virtual ~event_state();

    // ---- read by the queue (its executor only) ----
    const void* payload() const noexcept { return payload_; }
    event_collector::delivery delivery() const noexcept { return delivery_; }
    const std::vector<std::string>& keys() const noexcept { return *keys_; }
    const std::vector<std::string>& topics() const noexcept { return *topics_; }
    const std::optional<int>& requested_priority() const noexcept { return priority_; }

    /// Frees the payload once every collector is done with it (the event may be kept far
    /// longer than that).
    virtual void drop_payload() noexcept = 0;

    // ---- completion (the queue's executor) ----
    /// Completes with results already stored by `result_slots` (the default router's way:
    /// no allocation for one collector).
    void complete_stored() noexcept;
    /// Completes with a list (a custom router's, or a cancellation).
    void complete(result_list results) noexcept;
    /// Storage for `n` results, in the order of delivery; valid until `complete_stored`.
    result* result_slots(std::size_t n);

    // ---- any thread ----
    bool done() const noexcept { return done_.load(std::memory_order_acquire); }
    /// The results; only once `done()`. `self` is this state's owner (the list shares it).
    result_list results(const std::shared_ptr<const event_state>& self) const;
    /// Waits for `done()` (returns at once if it is); resumes on the caller's executor.
    /// Cancellation: any type ends the wait with operation_aborted; the event goes on.
    boost::asio::awaitable<void> wait_done();

protected:
    event_state() = default;
    void set_payload(const void* p, event_collector::delivery d, const std::vector<std::string>& keys,
                     const std::vector<std::string>& topics, std::optional<int> priority) noexcept
    {
        payload_ = p;
        delivery_ = d;
        keys_ = &keys;
        topics_ = &topics;
        priority_ = priority;
    }

private:
    void wake_waiters() noexcept;

    const void* payload_ = nullptr;
    event_collector::delivery delivery_ = event_collector::delivery::broadcast;
    const std::vector<std::string>* keys_ = nullptr;
    const std::vector<std::string>* topics_ = nullptr;
    std::optional<int> priority_;

    // One result is kept inline (one collector, the common case, costs no allocation);
    // more go to `many_`; a custom router's list is kept as it is.
    result one_;
    std::vector<result> many_;
    std::size_t stored_ = 0;
    result_list list_;
    bool has_list_ = false;

    // `done_` and `has_waiters_` are both written before the other is read (sequentially
    // consistent), so either the completion sees a waiter or the waiter sees `done_`:
    // completions skip the lock when nobody ever waited.
    std::atomic<bool> done_{false};
    std::atomic<bool> has_waiters_{false};
    std::mutex mutex_;
    std::vector<std::shared_ptr<remote_waiter<boost::system::error_code>>> waiters_;
};

/// The state of a `payload<T>`.
template <class T> class event_node final : public event_state
{
public:
    explicit event_node(event_collector::payload<T>&& p)
        : owned_(std::move(p))
    {
        set_payload(&*owned_, owned_->delivery, owned_->keys, owned_->topics, owned_->priority);
    }
    void drop_payload() noexcept override { owned_.reset(); }

private:
    std::optional<event_collector::payload<T>> owned_;
};

} // namespace courier::event_collector::detail

#endif
