// Choreography: the registry of output queues, the ordering of actions, and the run of one
// event's actions with its logging and its memory of confirmed sends (see
// events/choreography.hpp for what it guarantees).
#include "aws/digests.hpp"
#include "events/partial_deliveries.hpp"

#include <courier/error.hpp>
#include <courier/error_handler.hpp>
#include <courier/events/choreography.hpp>
#include <courier/settlement.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>

namespace asio = boost::asio;

namespace courier {

namespace {

constexpr std::size_t max_actions_per_event = 64; // the bits of the confirmation masks

} // namespace

output_queues& output_queues::add(std::string name, std::shared_ptr<publisher> to, output_queue_options options)
{
    if (name.empty())
        throw error(errc::bad_configuration, "output_queues: a queue needs a name");
    if (!to)
        throw error(errc::bad_configuration, fmt::format("output_queues: queue '{}' has no publisher", name));
    if (queues_.contains(name))
        throw error(errc::bad_configuration, fmt::format("output_queues: queue '{}' is given twice", name));
    auto key = name;
    queues_.emplace(std::move(key), queue{std::move(name), std::move(to), options});
    return *this;
}

const output_queues::queue* output_queues::find(std::string_view name) const noexcept
{
    const auto it = queues_.find(name);
    return it == queues_.end() ? nullptr : &it->second;
}

std::string output_queues::names() const
{
    std::string text;
    for (const auto& [name, q] : queues_)
        text += (text.empty() ? "" : ", ") + name;
    return text.empty() ? "none" : text;
}

action_error::action_error(std::string action, std::string queue, std::exception_ptr cause)
    : std::runtime_error(fmt::format("action '{}' (to queue '{}') failed: {}", action, queue, error_text(cause))),
      action_(std::move(action)),
      queue_(std::move(queue)),
      cause_(std::move(cause))
{
}

namespace detail {

struct registered_action
{
    std::string name;
    int weight;
    const output_queues::queue* to;
    transform_fn transform;
    mutable std::atomic<std::uint64_t> sent{0};
    mutable std::atomic<std::uint64_t> declined{0};
    mutable std::atomic<std::uint64_t> failed{0};
    mutable std::atomic<std::uint64_t> not_resent{0};
};

/// The actions of one event type, in the order they run.
class event_actions
{
public:
    explicit event_actions(const event_descriptor& event)
        : event(event)
    {
    }

    const event_descriptor& event;
    std::vector<std::unique_ptr<registered_action>> in_order;
    std::string summary; // "crm.upsert (10) -> crm, mail.welcome (20) -> mail"
};

class choreography_state
{
public:
    choreography_state(output_queues o, std::size_t remembered)
        : outputs(std::move(o)),
          confirmed(remembered)
    {
    }

    const event_actions* actions_of(const event_descriptor& event) const noexcept
    {
        for (const auto& actions : events)
            if (&actions->event == &event)
                return actions.get();
        return nullptr;
    }

    output_queues outputs;
    std::vector<std::unique_ptr<event_actions>> events;
    // Which actions were confirmed for input messages whose later actions failed.
    mutable partial_deliveries confirmed;
};

namespace {

// The deduplication id of an action's output: the same for every delivery of one input.
std::string deduplication_id(std::string_view input_id, std::string_view action)
{
    std::string key;
    key.reserve(input_id.size() + action.size() + 1);
    key.append(input_id).push_back('\n');
    key.append(action);
    return aws::to_hex(aws::sha256(key));
}

outgoing_message output_of(const event_actions& actions, const registered_action& action, const message& input,
                           std::string body)
{
    outgoing_message out{.body = std::move(body)};
    out.attributes.emplace("event_name", attribute{.value = actions.event.name});
    out.attributes.emplace("source_message_id", attribute{.value = input.id});
    out.attributes.emplace("action", attribute{.value = action.name});
    if (action.to->options.fifo)
    {
        out.deduplication_id = deduplication_id(input.id, action.name);
        out.group_id = input.group_id.empty() ? actions.event.name : input.group_id;
    }
    return out;
}

} // namespace

asio::awaitable<void> run_actions(std::shared_ptr<const choreography_state> state, const event_actions& actions,
                                  const void* event, context& ctx)
{
    const message& input = ctx.raw();
    const std::uint64_t confirmed_before = state->confirmed.succeeded_before(input);
    std::uint64_t confirmed = confirmed_before;
    for (std::size_t i = 0; i < actions.in_order.size(); ++i)
    {
        const registered_action& action = *actions.in_order[i];
        const std::uint64_t bit = std::uint64_t{1} << i;
        if (confirmed_before & bit)
        {
            action.not_resent.fetch_add(1, std::memory_order_relaxed);
            ctx.log(log_level::info, "action '{}' was confirmed on an earlier delivery: not sent again", action.name);
            continue;
        }
        ctx.log(log_level::info, "action '{}' (weight {}) started", action.name, action.weight);
        std::exception_ptr failure;
        try
        {
            std::optional<std::string> body = action.transform(event, ctx);
            if (!body)
            {
                action.declined.fetch_add(1, std::memory_order_relaxed);
                ctx.log(log_level::info, "action '{}' skipped: its transform declined the event", action.name);
                confirmed |= bit;
                continue;
            }
            const std::string id = co_await action.to->to->publish(output_of(actions, action, input, std::move(*body)));
            action.sent.fetch_add(1, std::memory_order_relaxed);
            ctx.log(log_level::info, "action '{}' sent to queue '{}' as message {}", action.name, action.to->name, id);
            confirmed |= bit;
            continue;
        }
        catch (...)
        {
            failure = std::current_exception();
        }
        action.failed.fetch_add(1, std::memory_order_relaxed);
        if (confirmed != confirmed_before)
            state->confirmed.remember(input, confirmed);
        ctx.log(log_level::warning, "action '{}' failed: {}; {} later action(s) not run", action.name,
                error_text(failure, ctx), actions.in_order.size() - i - 1);
        throw action_error(action.name, action.to->name, failure);
    }
    if (confirmed_before != 0)
        state->confirmed.forget(input);
}

namespace {

asio::awaitable<void> log_event(std::shared_ptr<const choreography_state> state, const event_descriptor& event,
                                context& ctx)
{
    if (const event_actions* actions = state->actions_of(event))
        ctx.log(log_level::info, "event '{}' has actions: {}", event.name, actions->summary);
    else
        ctx.log(log_level::info, "event '{}' has no actions", event.name);
    co_return;
}

} // namespace

} // namespace detail

choreography::choreography(output_queues outputs, choreography_options options)
    : state_(std::make_shared<detail::choreography_state>(std::move(outputs), options.remembered_partial_deliveries)),
      router_({.where = std::move(options.where),
               .unknown = options.unknown,
               .remembered_partial_deliveries = options.remembered_partial_deliveries,
               .dispatch_log_level = log_level::info})
{
    router_.listen_all("choreography", [state = std::shared_ptr<const detail::choreography_state>(state_)](
                                           const event_descriptor& event, context& ctx) {
        return detail::log_event(state, event, ctx);
    });
}

const output_queues& choreography::outputs() const noexcept
{
    return state_->outputs;
}

detail::event_actions& choreography::actions_of(const event_descriptor& event,
                                                const std::function<void(detail::event_actions&)>& on_first)
{
    for (const auto& actions : state_->events)
        if (&actions->event == &event)
            return *actions;
    auto& added = *state_->events.emplace_back(std::make_unique<detail::event_actions>(event));
    on_first(added);
    return added;
}

void choreography::add_action(detail::event_actions& actions, action_options options, detail::transform_fn transform)
{
    if (options.name.empty())
        throw error(errc::bad_configuration,
                    fmt::format("choreography: an action of event '{}' needs a name", actions.event.name));
    for (const auto& other : state_->events)
        for (const auto& action : other->in_order)
            if (action->name == options.name)
                throw error(errc::bad_configuration,
                            fmt::format("choreography: action '{}' is given twice (events '{}' and '{}')", options.name,
                                        other->event.name, actions.event.name));
    const auto* to = state_->outputs.find(options.queue);
    if (!to)
        throw error(errc::bad_configuration,
                    fmt::format("choreography: action '{}' sends to queue '{}', which is not an output queue "
                                "(known: {})",
                                options.name, options.queue, state_->outputs.names()));
    if (actions.in_order.size() >= max_actions_per_event)
        throw error(errc::bad_configuration, fmt::format("choreography: event '{}' would have more than {} actions",
                                                         actions.event.name, max_actions_per_event));
    // After every action of lower or equal weight: ties keep their registration order.
    const auto at = std::upper_bound(actions.in_order.begin(), actions.in_order.end(), options.weight,
                                     [](int weight, const auto& action) { return weight < action->weight; });
    actions.in_order.insert(at, std::make_unique<detail::registered_action>(std::move(options.name), options.weight, to,
                                                                            std::move(transform)));
    actions.summary.clear();
    for (const auto& action : actions.in_order)
        actions.summary += fmt::format("{}{} ({}) -> {}", actions.summary.empty() ? "" : ", ", action->name,
                                       action->weight, action->to->name);
}

std::vector<action_stats> choreography::stats() const
{
    std::vector<action_stats> all;
    for (const auto& actions : state_->events)
        for (const auto& action : actions->in_order)
            all.push_back({.event = actions->event.name,
                           .action = action->name,
                           .weight = action->weight,
                           .queue = action->to->name,
                           .sent = action->sent.load(std::memory_order_relaxed),
                           .declined = action->declined.load(std::memory_order_relaxed),
                           .failed = action->failed.load(std::memory_order_relaxed),
                           .not_resent = action->not_resent.load(std::memory_order_relaxed)});
    return all;
}

} // namespace courier
