// The event router: one route's messages dispatched to the listeners of their event.
//
//     courier::event_router router({.where = courier::event_name_location::body_member("event_name", "data")});
//     router.listen<lead_created>("crm", [](const lead_created& lead, courier::context& ctx)
//                                            -> boost::asio::awaitable<void> { ... });
//     router.listen<lead_created>("mail", send_welcome);           // a plain function: the blocking pool
//     router.listen_all("log", [](const courier::event_descriptor& e, courier::context& ctx) { ... });
//     router.listen_batch<lead_created>("warehouse", [](std::span<courier::batch_item<lead_created>> leads)
//                                                        -> boost::asio::awaitable<void> { ... });
//     mgr.add_route("events", queue, router, {.on_error = courier::retry_with_backoff()});
//     // or, to give batch listeners more than one event at a time:
//     mgr.add_route("events", queue, courier::batch(router, {.max_messages = 10, .window = 50ms}), ...);
//
// For each message the router reads the event's name where `event_name_location` says,
// decodes the payload once into the event's type (`json<T>`, with its validation), then runs
// the catch-all subscribers and the event's listeners, each in registration order. Listeners
// take the event like route handlers take their value: as a coroutine or as a plain function
// (run on the blocking pool), with or without the context.
//
// Batch listeners take `std::span<courier::batch_item<Event>>`, as a route's batch handler
// does (batch.hpp), and mark the events that failed. On a batch route (`courier::batch(router,
// ...)`) the messages of a batch are grouped by event; each listener of an event runs for the
// whole group before the next listener, a batch listener once with every event of the group
// (each with its own copy). On a route of single messages a batch listener gets batches of one.
//
// Acknowledgement and retries, under at-least-once delivery:
// - The message is acknowledged only when every subscriber and listener succeeded. Every one
//   runs even when an earlier one failed; the failures reach the route's error handler as
//   one `event_listener_error` naming the listeners.
// - A retry runs only the listeners that have not succeeded for that message id yet: the
//   router remembers, in this process, which ones did (at most
//   `remembered_partial_deliveries` messages; the oldest is forgotten first). After a restart,
//   or once forgotten, every listener runs again, so listeners must be idempotent, as every
//   handler under at-least-once delivery must be.
// - A listener that throws `delete_message` is done with the event (counts as a success);
//   when every failing listener threw `retry_message`, the message is retried after the
//   longest delay asked for, without the error handler.
// - A payload that does not decode (or fails `validate()`) is a translation error, and no
//   listener runs; a message without an event name where one is expected is one too.
#ifndef COURIER_EVENTS_ROUTER_HPP
#define COURIER_EVENTS_ROUTER_HPP

#include <courier/batch.hpp>
#include <courier/context.hpp>
#include <courier/events/event.hpp>
#include <courier/events/name_location.hpp>
#include <courier/events/pipeline.hpp>
#include <courier/handler.hpp>
#include <courier/json.hpp>
#include <courier/message.hpp>

#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace courier {

/// What an event route does with a message whose event no listener knows.
enum class unknown_event_policy
{
    /// A failure (`errc::unknown_event`): the route's error handler decides, so a redrive
    /// policy can move the message to the dead-letter queue. The default: nothing is lost.
    fail,
    /// Acknowledged without running anything, logged and counted (`event_router_stats`).
    skip,
    /// Left to the provider's redelivery without the error handler, for another consumer of
    /// the queue (a newer version of this service) to take.
    leave,
};

/// How an event router reads its messages.
struct event_router_options
{
    /// Where the event's name is (and, for a body member, where the payload is).
    event_name_location where = event_name_location::attribute();
    unknown_event_policy unknown = unknown_event_policy::fail;
    /// Turns the delivery into the message that carries the event, before anything is read:
    /// `courier::sns_envelope{}` for a queue subscribed to SNS topics without raw delivery.
    /// Pipelines see the unwrapped message; the context keeps the delivery (it is what is
    /// acknowledged). What it throws is a translation error.
    std::function<message(const message&)> unwrap{};
    /// How many messages whose listeners partly failed are remembered, so that their retry
    /// runs only the listeners that failed (see the top of this file).
    std::size_t remembered_partial_deliveries = 10'000;
    /// The level of the line "event 'x' dispatched to subscribers: a, b" logged for each
    /// message (formatted only when the route's logger is at that level).
    log_level dispatch_log_level = log_level::debug;
};

/// An event router's counters.
struct event_router_stats
{
    std::uint64_t dispatched = 0;          ///< messages whose listeners all ran (successfully or not)
    std::uint64_t unknown = 0;             ///< messages with an unknown event name (any policy)
    std::uint64_t listener_failures = 0;   ///< listener runs that failed (pipeline rejections included)
    std::uint64_t listeners_not_rerun = 0; ///< listener runs skipped on a retry: already succeeded
};

/// The failure of one or more listeners of an event: what the route's error handler gets.
class event_listener_error : public std::runtime_error
{
public:
    struct failure
    {
        std::string listener;
        std::exception_ptr cause;
    };

    event_listener_error(std::string event, std::vector<failure> failures);

    const std::string& event() const noexcept { return event_; }
    /// The listeners that failed, in the order they ran, with what each threw.
    const std::vector<failure>& failures() const noexcept { return failures_; }

private:
    std::string event_;
    std::vector<failure> failures_;
};

namespace detail {

class event_router_state;

using event_subscriber_fn = std::function<boost::asio::awaitable<void>(const event_descriptor&, context&)>;

/// One message's trip through the subscribers and listeners of its event: which to run,
/// what succeeded and what failed. The typed loop below drives it; the rest is compiled.
class event_run
{
public:
    event_run(const event_router_state& state, const event_descriptor& event, context& ctx,
              std::uint64_t succeeded_before, std::optional<message> unwrapped) noexcept;

    context& ctx() const noexcept { return *ctx_; }
    bool has_subscribers() const noexcept;
    /// Runs the catch-all subscribers.
    boost::asio::awaitable<void> notify_subscribers();

    /// Whether the next listener, `name`, is to run: not if it succeeded on an earlier
    /// delivery, nor if a pipeline rejected the message for it (a failure, recorded).
    bool begin(std::string_view name);
    void succeeded() noexcept;
    void failed(std::exception_ptr error);
    /// Records the outcome; throws what the route should see if anything failed.
    void finish();

private:
    const event_router_state* state_;
    const event_descriptor* event_;
    context* ctx_;
    std::uint64_t succeeded_before_;
    std::optional<message> unwrapped_; // what `unwrap` made of the delivery, if set
    std::uint64_t succeeded_ = 0;
    std::size_t next_ = 0; // the next listener's bit in the masks: subscribers come first
    std::string_view current_;
    std::vector<event_listener_error::failure> failures_;
};

/// An event decoded from one message of a batch, before its listeners run.
class decoded_event
{
public:
    virtual ~decoded_event() = default;
};

template <class Event> struct decoded_event_of final : decoded_event
{
    Event value{};
};

/// One message of a batch on its way through the listeners of its event.
struct pending_event
{
    std::unique_ptr<decoded_event> event;
    event_run run;
};

/// The listeners of one event type, behind a type-erased face.
class event_entry
{
public:
    explicit event_entry(const event_descriptor& event)
        : event_(event)
    {
    }
    virtual ~event_entry() = default;

    const event_descriptor& event() const noexcept { return event_; }
    virtual std::size_t listener_count() const noexcept = 0;
    virtual bool has_listener(std::string_view name) const noexcept = 0;
    /// The listeners' names, in the order they run.
    virtual std::vector<std::string> listener_names() const = 0;
    /// Decodes the payload (synchronously: `payload` lives only as long as the parse), then
    /// returns the coroutine that runs the listeners.
    virtual boost::asio::awaitable<void> dispatch(const json_node& payload, const json_path& path,
                                                  event_run run) const = 0;
    /// Decodes one message's payload of a batch (synchronously, as `dispatch`).
    virtual std::unique_ptr<decoded_event> decode(const json_node& payload, const json_path& path) const = 0;
    /// Runs the listeners for every event of a batch, listener by listener, recording each
    /// outcome in its event's run.
    virtual boost::asio::awaitable<void> dispatch_batch(std::span<pending_event> events) const = 0;

private:
    const event_descriptor& event_;
};

template <class Event> class typed_event_entry final : public event_entry
{
public:
    using listener_fn = std::function<boost::asio::awaitable<void>(const Event&, context&)>;
    using batch_listener_fn = std::function<boost::asio::awaitable<void>(std::span<batch_item<Event>>)>;

    typed_event_entry()
        : event_entry(describe_event<Event>())
    {
    }

    void add(std::string name, listener_fn fn) { listeners_.push_back({std::move(name), std::move(fn), {}}); }
    void add_batch(std::string name, batch_listener_fn fn)
    {
        listeners_.push_back({std::move(name), {}, std::move(fn)});
    }
    std::size_t listener_count() const noexcept override { return listeners_.size(); }
    bool has_listener(std::string_view name) const noexcept override
    {
        for (const listener& l : listeners_)
            if (l.name == name)
                return true;
        return false;
    }
    std::vector<std::string> listener_names() const override
    {
        std::vector<std::string> names;
        for (const listener& l : listeners_)
            names.push_back(l.name);
        return names;
    }

    boost::asio::awaitable<void> dispatch(const json_node& payload, const json_path& path, event_run run) const override
    {
        Event value{};
        json_read(payload, value, path);
        return run_listeners(std::move(value), std::move(run));
    }

    std::unique_ptr<decoded_event> decode(const json_node& payload, const json_path& path) const override
    {
        auto decoded = std::make_unique<decoded_event_of<Event>>();
        json_read(payload, decoded->value, path);
        return decoded;
    }

    boost::asio::awaitable<void> dispatch_batch(std::span<pending_event> events) const override
    {
        for (pending_event& e : events)
            if (e.run.has_subscribers())
                co_await e.run.notify_subscribers();
        for (const listener& l : listeners_)
        {
            if (l.fn)
            {
                for (pending_event& e : events)
                {
                    if (!e.run.begin(l.name))
                        continue;
                    try
                    {
                        co_await l.fn(value_of(e), e.run.ctx());
                        e.run.succeeded();
                    }
                    catch (...)
                    {
                        e.run.failed(std::current_exception());
                    }
                }
                continue;
            }
            std::vector<batch_item<Event>> items;
            std::vector<event_run*> runs;
            for (pending_event& e : events)
                if (e.run.begin(l.name))
                {
                    items.emplace_back(value_of(e), e.run.ctx());
                    runs.push_back(&e.run);
                }
            if (items.empty())
                continue;
            co_await run_batch(l, items);
            for (std::size_t i = 0; i < items.size(); ++i)
                record(*runs[i], items[i]);
        }
    }

private:
    struct listener
    {
        std::string name;
        listener_fn fn;          // takes one event,
        batch_listener_fn batch; // or else a batch of them
    };

    static const Event& value_of(const pending_event& e) noexcept
    {
        return static_cast<const decoded_event_of<Event>&>(*e.event).value;
    }

    // A batch listener that throws fails every event it was given.
    static boost::asio::awaitable<void> run_batch(const listener& l, std::span<batch_item<Event>> items)
    {
        std::exception_ptr all_failed;
        try
        {
            co_await l.batch(items);
        }
        catch (...)
        {
            all_failed = std::current_exception();
        }
        if (all_failed)
            for (auto& item : items)
                item.fail(all_failed);
    }

    static void record(event_run& run, const batch_item<Event>& item)
    {
        if (item.failed())
            run.failed(item.failure());
        else
            run.succeeded();
    }

    boost::asio::awaitable<void> run_listeners(Event value, event_run run) const
    {
        if (run.has_subscribers())
            co_await run.notify_subscribers();
        for (const listener& l : listeners_)
        {
            if (!run.begin(l.name))
                continue;
            if (l.fn)
            {
                try
                {
                    co_await l.fn(value, run.ctx());
                    run.succeeded();
                }
                catch (...)
                {
                    run.failed(std::current_exception());
                }
                continue;
            }
            batch_item<Event> one(value, run.ctx());
            co_await run_batch(l, std::span(&one, 1));
            record(run, one);
        }
        run.finish();
    }

    std::vector<listener> listeners_;
};

} // namespace detail

/// Dispatches a route's messages to event listeners (see the top of this file). A route
/// takes it as its handler; copies share their listeners and counters.
///
/// Thread safety: configure before the route starts; afterwards `stats()` may be called
/// from any thread.
class event_router
{
public:
    explicit event_router(event_router_options options = {});

    /// Makes `Event` known without a listener of its own: its messages are decoded and seen
    /// by the catch-all subscribers. Throws `errc::bad_configuration` if another type has the
    /// same name (or media type, when the location is keyed by it).
    template <class Event> event_router& add_event()
    {
        typed_entry<Event>();
        return *this;
    }

    /// Adds a listener of `Event`, named for logs and errors (unique among the event's; an
    /// event has at most 64 listeners and catch-all subscribers together).
    template <class Event, class Listener> event_router& listen(std::string name, Listener listener)
    {
        detail::check_handler_shape<Listener, const Event&>();
        auto& entry = typed_entry<Event>();
        check_listener_name(entry, name);
        entry.add(std::move(name), [listener = std::move(listener)](const Event& event, context& ctx) mutable {
            return detail::call_handler(listener, event, ctx);
        });
        return *this;
    }

    /// Adds a batch listener of `Event`: a coroutine or a plain function (run on the blocking
    /// pool) taking `std::span<courier::batch_item<Event>>` (see the top of this file). Named
    /// and counted as a listener.
    template <class Event, class Listener> event_router& listen_batch(std::string name, Listener listener)
    {
        static_assert(batch_handler_for<Listener, Event>,
                      "courier: a batch listener must be callable as boost::asio::awaitable<void>("
                      "std::span<courier::batch_item<Event>>) or void(std::span<courier::batch_item<Event>>)");
        auto& entry = typed_entry<Event>();
        check_listener_name(entry, name);
        entry.add_batch(std::move(name), [listener = std::move(listener)](std::span<batch_item<Event>> events) mutable {
            return detail::call_batch_handler(listener, events, events.front().context().blocking_executor());
        });
        return *this;
    }

    /// Adds a subscriber that sees every known event (choreographer's logger) before its
    /// listeners run; it takes `const courier::event_descriptor&` as a listener takes its event.
    template <class Subscriber> event_router& listen_all(std::string name, Subscriber subscriber)
    {
        detail::check_handler_shape<Subscriber, const event_descriptor&>();
        add_subscriber(std::move(name),
                       [subscriber = std::move(subscriber)](const event_descriptor& event, context& ctx) mutable {
                           return detail::call_handler(subscriber, event, ctx);
                       });
        return *this;
    }

    /// Adds a pipeline; pipelines run in the order added, before each listener.
    event_router& add_pipeline(std::shared_ptr<envelope_pipeline> pipeline);

    const event_router_options& options() const noexcept;
    event_router_stats stats() const noexcept;
    /// Who sees `event`: the catch-all subscribers, then its listeners, in the order they run
    /// (empty for an event the router does not know).
    std::vector<std::string> subscribers_of(const event_descriptor& event) const;

    /// Handles one message (the route calls it).
    boost::asio::awaitable<void> operator()(const message& msg, context& ctx) const;
    /// Handles a batch (a route made with `courier::batch(router, ...)` calls it).
    boost::asio::awaitable<void> operator()(std::span<batch_item<message>> batch) const;

private:
    template <class Event> detail::typed_event_entry<Event>& typed_entry()
    {
        const event_descriptor& event = describe_event<Event>();
        if (detail::event_entry* known = find_entry(event))
            return static_cast<detail::typed_event_entry<Event>&>(*known);
        auto entry = std::make_unique<detail::typed_event_entry<Event>>();
        auto& typed = *entry;
        add_entry(std::move(entry));
        return typed;
    }

    // Null when no entry has the event's key; throws if another type holds it.
    detail::event_entry* find_entry(const event_descriptor& event);
    void add_entry(std::unique_ptr<detail::event_entry> entry);
    void check_listener_name(const detail::event_entry& entry, std::string_view name) const;
    void add_subscriber(std::string name, detail::event_subscriber_fn fn);

    std::shared_ptr<detail::event_router_state> state_;
};

} // namespace courier

#endif
