// The event router: finding a message's event, and the bookkeeping of one message's trip
// through its listeners (see events/router.hpp for what it guarantees).
#include "events/event_keys.hpp"
#include "events/partial_deliveries.hpp"

#include <courier/error.hpp>
#include <courier/error_handler.hpp>
#include <courier/events/router.hpp>
#include <courier/settlement.hpp>

#include <boost/core/demangle.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <optional>

namespace asio = boost::asio;

namespace courier {

namespace {

constexpr std::size_t max_listeners_per_event = 64; // the bits of the success masks

std::string describe_failures(const std::string& event, const std::vector<event_listener_error::failure>& failures)
{
    if (failures.size() == 1)
        return fmt::format("listener '{}' of event '{}' failed: {}", failures.front().listener, event,
                           error_text(failures.front().cause));
    std::string text = fmt::format("{} listeners of event '{}' failed:", failures.size(), event);
    for (const auto& f : failures)
        text += fmt::format(" '{}': {};", f.listener, error_text(f.cause));
    text.pop_back();
    return text;
}

} // namespace

event_listener_error::event_listener_error(std::string event, std::vector<failure> failures)
    : std::runtime_error(describe_failures(event, failures)),
      event_(std::move(event)),
      failures_(std::move(failures))
{
}

namespace detail {

class event_router_state
{
public:
    explicit event_router_state(event_router_options o)
        : options(std::move(o)),
          partial(options.remembered_partial_deliveries)
    {
    }

    std::string_view key_of(const event_descriptor& event) const
    {
        return event_key_of(options.where, event, "event_router");
    }

    event_router_options options;
    std::map<std::string, std::unique_ptr<event_entry>, std::less<>> entries;
    std::vector<std::pair<std::string, event_subscriber_fn>> subscribers;
    std::vector<std::shared_ptr<envelope_pipeline>> pipelines;
    // Which listeners succeeded for messages whose other listeners failed.
    mutable partial_deliveries partial;

    mutable std::atomic<std::uint64_t> dispatched{0};
    mutable std::atomic<std::uint64_t> unknown{0};
    mutable std::atomic<std::uint64_t> listener_failures{0};
    mutable std::atomic<std::uint64_t> listeners_not_rerun{0};
};

event_run::event_run(const event_router_state& state, const event_descriptor& event, context& ctx,
                     std::uint64_t succeeded_before, std::optional<message> unwrapped) noexcept
    : state_(&state),
      event_(&event),
      ctx_(&ctx),
      succeeded_before_(succeeded_before),
      unwrapped_(std::move(unwrapped))
{
}

bool event_run::has_subscribers() const noexcept
{
    return !state_->subscribers.empty();
}

asio::awaitable<void> event_run::notify_subscribers()
{
    for (const auto& [name, notify] : state_->subscribers)
    {
        if (!begin(name))
            continue;
        try
        {
            co_await notify(*event_, *ctx_);
            succeeded();
        }
        catch (...)
        {
            failed(std::current_exception());
        }
    }
}

bool event_run::begin(std::string_view name)
{
    current_ = name;
    const std::uint64_t bit = std::uint64_t{1} << next_++;
    if (succeeded_before_ & bit)
    {
        state_->listeners_not_rerun.fetch_add(1, std::memory_order_relaxed);
        ctx_->log(log_level::debug, "listener '{}' of event '{}' succeeded on an earlier delivery: not run again", name,
                  event_->name);
        return false;
    }
    if (state_->pipelines.empty())
        return true;
    const incoming_envelope envelope(unwrapped_ ? *unwrapped_ : ctx_->raw());
    const listener_descriptor listener{ctx_->route(), name, *event_};
    try
    {
        for (const auto& pipeline : state_->pipelines)
            pipeline->on_handle(envelope, listener, *ctx_);
    }
    catch (...)
    {
        failed(std::current_exception());
        return false;
    }
    return true;
}

void event_run::succeeded() noexcept
{
    succeeded_ |= std::uint64_t{1} << (next_ - 1);
}

void event_run::failed(std::exception_ptr error)
{
    try
    {
        std::rethrow_exception(error);
    }
    catch (const delete_message& done)
    {
        ctx_->log(log_level::info, "listener '{}' of event '{}' is done with it: {}", current_, event_->name,
                  done.what());
        succeeded();
        return;
    }
    catch (...)
    {
    }
    ctx_->log(log_level::debug, "listener '{}' of event '{}' failed: {}", current_, event_->name,
              error_text(error, *ctx_));
    failures_.push_back({std::string(current_), std::move(error)});
}

void event_run::finish()
{
    state_->dispatched.fetch_add(1, std::memory_order_relaxed);
    if (failures_.empty())
    {
        if (succeeded_before_ != 0)
            state_->partial.forget(ctx_->raw());
        return;
    }
    state_->listener_failures.fetch_add(failures_.size(), std::memory_order_relaxed);
    state_->partial.remember(ctx_->raw(), succeeded_before_ | succeeded_);

    bool only_retries = true;
    std::chrono::milliseconds delay{0};
    for (const auto& f : failures_)
    {
        try
        {
            std::rethrow_exception(f.cause);
        }
        catch (const retry_message& retry)
        {
            delay = std::max(delay, retry.delay());
        }
        catch (...)
        {
            only_retries = false;
        }
    }
    if (only_retries)
    {
        std::string names;
        for (const auto& f : failures_)
            names += (names.empty() ? "'" : ", '") + f.listener + "'";
        throw retry_message(delay, fmt::format("listener {} of event '{}' asked for a retry", names, event_->name));
    }
    throw event_listener_error(event_->name, std::move(failures_));
}

} // namespace detail

event_router::event_router(event_router_options options)
    : state_(std::make_shared<detail::event_router_state>(std::move(options)))
{
    if (state_->options.where.where() == event_name_location::kind::fixed && state_->options.where.field().empty())
        throw error(errc::bad_configuration, "event_router: a fixed event name must not be empty");
}

event_router& event_router::add_pipeline(std::shared_ptr<envelope_pipeline> pipeline)
{
    if (!pipeline)
        throw error(errc::bad_configuration, "event_router: a pipeline must not be null");
    state_->pipelines.push_back(std::move(pipeline));
    return *this;
}

const event_router_options& event_router::options() const noexcept
{
    return state_->options;
}

event_router_stats event_router::stats() const noexcept
{
    return {.dispatched = state_->dispatched.load(std::memory_order_relaxed),
            .unknown = state_->unknown.load(std::memory_order_relaxed),
            .listener_failures = state_->listener_failures.load(std::memory_order_relaxed),
            .listeners_not_rerun = state_->listeners_not_rerun.load(std::memory_order_relaxed)};
}

detail::event_entry* event_router::find_entry(const event_descriptor& event)
{
    const auto it = state_->entries.find(state_->key_of(event));
    if (it == state_->entries.end())
        return nullptr;
    if (it->second->event().type != event.type)
        throw error(errc::bad_configuration,
                    fmt::format("event_router: {} and {} are both event '{}'; give one another name "
                                "(`static constexpr courier::event_options courier_event{{.name = ...}}`)",
                                boost::core::demangle(it->second->event().type.name()),
                                boost::core::demangle(event.type.name()), it->first));
    return it->second.get();
}

void event_router::add_entry(std::unique_ptr<detail::event_entry> entry)
{
    auto key = std::string(state_->key_of(entry->event()));
    state_->entries.emplace(std::move(key), std::move(entry));
}

void event_router::check_listener_name(const detail::event_entry& entry, std::string_view name) const
{
    if (name.empty())
        throw error(errc::bad_configuration,
                    fmt::format("event_router: a listener of event '{}' needs a name", entry.event().name));
    if (entry.has_listener(name))
        throw error(errc::bad_configuration, fmt::format("event_router: event '{}' has a listener named '{}' already",
                                                         entry.event().name, name));
    if (entry.listener_count() + state_->subscribers.size() >= max_listeners_per_event)
        throw error(errc::bad_configuration, fmt::format("event_router: event '{}' would have more than {} listeners",
                                                         entry.event().name, max_listeners_per_event));
}

void event_router::add_subscriber(std::string name, detail::event_subscriber_fn fn)
{
    if (name.empty())
        throw error(errc::bad_configuration, "event_router: a catch-all subscriber needs a name");
    for (const auto& [key, entry] : state_->entries)
        if (entry->listener_count() + state_->subscribers.size() >= max_listeners_per_event)
            throw error(errc::bad_configuration,
                        fmt::format("event_router: event '{}' would have more than {} listeners", entry->event().name,
                                    max_listeners_per_event));
    state_->subscribers.emplace_back(std::move(name), std::move(fn));
}

namespace {

std::vector<std::string> names_of_subscribers(const detail::event_router_state& state, const detail::event_entry& entry)
{
    std::vector<std::string> names;
    for (const auto& [name, notify] : state.subscribers)
        names.push_back(name);
    for (auto& name : entry.listener_names())
        names.push_back(std::move(name));
    return names;
}

asio::awaitable<void> nothing_to_do()
{
    co_return;
}

// Finds the delivery's event and hands its entry and payload to `use` while the parsed body
// lives; does nothing more for an unknown event the policy skips. Throws a translation error
// for a message without a name or with a payload that does not decode, and what the
// unknown-event policy throws.
template <class Use>
void read_event(const detail::event_router_state& state, const message& delivery, context& ctx,
                std::optional<message>& unwrapped, Use&& use)
{
    const auto& where = state.options.where;

    // The name: where the location says. A message without one is malformed.
    std::optional<detail::json_document> document;
    std::string_view key;
    try
    {
        if (state.options.unwrap)
            unwrapped.emplace(state.options.unwrap(delivery));
        const message& msg = unwrapped ? *unwrapped : delivery;
        switch (where.where())
        {
        case event_name_location::kind::attribute:
        {
            const auto it = msg.attributes.find(where.field());
            if (it == msg.attributes.end())
                throw error(errc::translation_failed,
                            fmt::format("the message has no attribute '{}' naming its event", where.field()));
            key = it->second.value;
            break;
        }
        case event_name_location::kind::body_member:
        {
            document.emplace(msg.body);
            const detail::json_path root{};
            const detail::json_path member{&root, where.field()};
            detail::json_node name;
            if (!document->root().find_field(root, where.field(), name))
                detail::throw_json_error(member, "required member is missing (the event name)");
            key = name.as_string(member);
            break;
        }
        case event_name_location::kind::fixed: key = where.field(); break;
        }
    }
    catch (...)
    {
        detail::rethrow_as_translation_error(ctx);
    }

    const auto found = state.entries.find(key);
    if (found == state.entries.end())
    {
        state.unknown.fetch_add(1, std::memory_order_relaxed);
        switch (state.options.unknown)
        {
        case unknown_event_policy::fail:
            throw error(errc::unknown_event,
                        fmt::format("no listener knows event '{}' (known: {})", key, joined_keys(state.entries)),
                        error_context{.route = std::string(ctx.route()), .message_id = delivery.id});
        case unknown_event_policy::leave:
            throw leave_message(fmt::format("no listener knows event '{}'; left for another consumer", key));
        case unknown_event_policy::skip: ctx.log(log_level::info, "no listener knows event '{}': skipped", key); return;
        }
    }

    if (ctx.logger().enabled(state.options.dispatch_log_level))
        ctx.log(state.options.dispatch_log_level, "event '{}' dispatched to subscribers: {}", key,
                fmt::join(names_of_subscribers(state, *found->second), ", "));

    // The payload: decoded by `use` while the parsed document lives.
    try
    {
        if (!document)
            document.emplace(unwrapped ? unwrapped->body : delivery.body);
        const detail::json_path root{};
        const detail::json_path member{&root, where.payload_member()};
        const bool in_member =
            where.where() == event_name_location::kind::body_member && !where.payload_member().empty();
        detail::json_node payload = document->root();
        if (in_member && !document->root().find_field(root, where.payload_member(), payload))
            detail::throw_json_error(member, "required member is missing (the event's payload)");
        use(*found->second, payload, in_member ? member : root);
    }
    catch (...)
    {
        detail::rethrow_as_translation_error(ctx);
    }
}

} // namespace

asio::awaitable<void> event_router::operator()(const message& delivery, context& ctx) const
{
    const auto& state = *state_;
    std::optional<message> unwrapped;
    std::optional<asio::awaitable<void>> listeners;
    read_event(state, delivery, ctx, unwrapped,
               [&](const detail::event_entry& entry, const detail::json_node& payload, const detail::json_path& path) {
                   listeners.emplace(entry.dispatch(payload, path,
                                                    detail::event_run(state, entry.event(), ctx,
                                                                      state.partial.succeeded_before(delivery),
                                                                      std::move(unwrapped))));
               });
    return listeners ? std::move(*listeners) : nothing_to_do();
}

asio::awaitable<void> event_router::operator()(std::span<batch_item<message>> batch) const
{
    const auto& state = *state_;
    // Each message decoded, grouped by event in the order first seen; a message that fails
    // to, or whose event is unknown, fails (or is skipped) alone.
    struct group
    {
        const detail::event_entry* entry;
        std::vector<detail::pending_event> events;
        std::vector<batch_item<message>*> items;
    };
    std::vector<group> groups;
    for (auto& item : batch)
    {
        context& ctx = item.context();
        std::optional<message> unwrapped;
        try
        {
            read_event(
                state, ctx.raw(), ctx, unwrapped,
                [&](const detail::event_entry& entry, const detail::json_node& payload, const detail::json_path& path) {
                    auto decoded = entry.decode(payload, path);
                    auto g =
                        std::find_if(groups.begin(), groups.end(), [&](const group& g) { return g.entry == &entry; });
                    if (g == groups.end())
                        g = groups.insert(groups.end(), group{&entry, {}, {}});
                    g->events.push_back(
                        {std::move(decoded),
                         detail::event_run(state, entry.event(), ctx, state.partial.succeeded_before(ctx.raw()),
                                           std::move(unwrapped))});
                    g->items.push_back(&item);
                });
        }
        catch (...)
        {
            item.fail(std::current_exception());
        }
    }
    for (auto& g : groups)
    {
        co_await g.entry->dispatch_batch(g.events);
        for (std::size_t i = 0; i < g.events.size(); ++i)
        {
            try
            {
                g.events[i].run.finish();
            }
            catch (...)
            {
                g.items[i]->fail(std::current_exception());
            }
        }
    }
}

std::vector<std::string> event_router::subscribers_of(const event_descriptor& event) const
{
    const auto it = state_->entries.find(state_->key_of(event));
    if (it == state_->entries.end() || it->second->event().type != event.type)
        return {};
    return names_of_subscribers(*state_, *it->second);
}

} // namespace courier
