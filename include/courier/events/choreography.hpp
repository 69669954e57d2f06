// Choreography (briefy.choreographer): each event's actions, in ascending weight, transform
// it into a payload and publish that to a named output queue; every step is logged.
//
//     courier::output_queues outputs;
//     outputs.add("crm", courier::make_sqs_publisher(sqs, crm_url));
//     outputs.add("mail", courier::make_sqs_publisher(sqs, mail_url));
//
//     courier::choreography choreo(outputs, {.where = courier::event_name_location::body_member("event_name",
//     "data")}); choreo.action<lead_created>({.name = "crm.upsert", .weight = 10, .queue = "crm"},
//                                 [](const lead_created& lead) { return crm_lead{lead.id, lead.email}; });
//     choreo.action<lead_created>({.name = "mail.welcome", .weight = 20, .queue = "mail"},
//                                 [](const lead_created& lead) -> std::optional<welcome_mail> {
//                                     if (lead.email.empty())
//                                         return std::nullopt;                 // declines: nothing sent
//                                     return welcome_mail{lead.email, "welcome", lead.name};
//                                 });
//     choreo.router().add_event<lead_deleted>();                           // logged, no actions
//     mgr.add_route("events", input, choreo.router(), {.on_error = ...});
//
// The choreography owns an `event_router` (its options are the constructor's second
// argument): a catch-all subscriber logs each event with the actions it has, and each event
// type with actions gets one listener, "actions", that runs them. Other listeners and
// subscribers may be added to `router()`; they run as the router runs them.
//
// For each event its actions run one after another, in ascending `weight`; equal weights
// run in the order they were registered. An action:
// - transforms the event (a transform returns the payload, a described struct or
//   `courier::json_text`, or `std::optional` of one, whose `nullopt` declines: nothing is
//   sent for this event and the action counts as done);
// - publishes the payload to its output queue and waits for the queue to confirm it;
// - logs that it started, and what it sent (output queue, output message id) or skipped.
//
// Every output message carries three String attributes: `event_name` (the input's),
// `source_message_id` (the input message's id, the SQS MessageId) and `action` (the action's
// name). An output queue added as FIFO also gets a deduplication id derived from the input
// message id and the action's name, and the input's message group (or else the event's
// name) as its group.
//
// Acknowledgement and failure, under at-least-once delivery:
// - The input message is acknowledged only after every action's send was confirmed.
// - When an action fails (its transform throws, or the send fails), the later actions do
//   not run, and the route's error handler decides (the error names the action and queue).
// - On a redelivery, the actions already confirmed for that input message id are not sent
//   again while the process lives: the choreography remembers them for up to
//   `remembered_partial_deliveries` messages (the oldest forgotten first).
// - What remains possible: after a crash between a send and the acknowledgement, or once
//   forgotten, a redelivery sends the confirmed actions again. FIFO outputs drop those
//   duplicates themselves (SQS deduplicates within 5 minutes); on standard queues a consumer
//   detects them by (`source_message_id`, `action`).
//
// Events run concurrently, up to the route's `max_in_flight`; the actions of one event run
// in order.
#ifndef COURIER_EVENTS_CHOREOGRAPHY_HPP
#define COURIER_EVENTS_CHOREOGRAPHY_HPP

#include <courier/context.hpp>
#include <courier/events/event.hpp>
#include <courier/events/router.hpp>
#include <courier/json.hpp>
#include <courier/json_encode.hpp>
#include <courier/publisher.hpp>

#include <boost/asio/awaitable.hpp>

#include <concepts>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace courier {

/// How an output queue takes messages.
struct output_queue_options
{
    /// A FIFO queue: each message gets a deduplication id and a message group.
    bool fifo = false;
};

/// Named output queues: where actions send their payloads. Fill it before actions name its
/// queues (from code, or from command-line flags).
class output_queues
{
public:
    struct queue
    {
        std::string name;
        std::shared_ptr<publisher> to;
        output_queue_options options;
    };

    /// Adds a queue. Throws `errc::bad_configuration` for an empty or known name, or a null
    /// publisher.
    output_queues& add(std::string name, std::shared_ptr<publisher> to, output_queue_options options = {});
    /// The queue with this name, or null.
    const queue* find(std::string_view name) const noexcept;
    /// The names, sorted and comma-separated (for errors and logs).
    std::string names() const;

private:
    std::map<std::string, queue, std::less<>> queues_;
};

/// An action of a choreography.
struct action_options
{
    /// Unique in the choreography: in logs, errors, the `action` attribute and FIFO
    /// deduplication ids.
    std::string name;
    /// Actions run in ascending weight; equal weights in registration order.
    int weight = 0;
    /// The output queue's name in the choreography's `output_queues`.
    std::string queue;
};

/// What one action did so far.
struct action_stats
{
    std::string event;
    std::string action;
    int weight = 0;
    std::string queue;
    std::uint64_t sent = 0;       ///< payloads confirmed by the output queue
    std::uint64_t declined = 0;   ///< events the transform declined
    std::uint64_t failed = 0;     ///< transforms that threw and sends that failed
    std::uint64_t not_resent = 0; ///< redeliveries on which it had been confirmed already
};

/// The failure of one action: what the route's error handler gets (inside the
/// `event_listener_error` of the listener "actions").
class action_error : public std::runtime_error
{
public:
    action_error(std::string action, std::string queue, std::exception_ptr cause);

    const std::string& action() const noexcept { return action_; }
    const std::string& queue() const noexcept { return queue_; }
    const std::exception_ptr& cause() const noexcept { return cause_; }

private:
    std::string action_;
    std::string queue_;
    std::exception_ptr cause_;
};

/// How a choreography reads its events and how much it remembers.
struct choreography_options
{
    /// Where the event name is; the payload is what the router decodes (see router.hpp).
    event_name_location where = event_name_location::body_member("event_name", "data");
    unknown_event_policy unknown = unknown_event_policy::fail;
    /// How many input messages whose actions partly failed are remembered, so that their
    /// retry does not send the confirmed actions again (see the top of this file).
    std::size_t remembered_partial_deliveries = 10'000;
};

namespace detail {

class choreography_state;
class event_actions;

/// Encodes what the transform made of `event`: the payload's JSON, or nullopt if declined.
using transform_fn = std::function<std::optional<std::string>(const void* event, context& ctx)>;

/// Runs the actions of one event (the listener "actions").
boost::asio::awaitable<void> run_actions(std::shared_ptr<const choreography_state> state, const event_actions& actions,
                                         const void* event, context& ctx);

template <class Transform, class Event> auto call_transform(Transform& transform, const Event& event, context& ctx)
{
    if constexpr (std::invocable<Transform&, const Event&, context&>)
        return transform(event, ctx);
    else
        return transform(event);
}

} // namespace detail

/// Actions by event (see the top of this file). Copies share their actions and counters.
///
/// Thread safety: configure before the route starts; afterwards `stats()` may be called from
/// any thread.
class choreography
{
public:
    explicit choreography(output_queues outputs, choreography_options options = {});

    /// Adds an action for `Event`: `transform` takes `const Event&` (and optionally
    /// `courier::context&`) and returns the payload or `std::optional` of it. Throws
    /// `errc::bad_configuration` for a name already taken or an output queue that is not in
    /// `output_queues` (naming the known ones), and for more than 64 actions of one event.
    template <class Event, class Transform> choreography& action(action_options options, Transform transform)
    {
        static_assert(std::invocable<Transform&, const Event&> || std::invocable<Transform&, const Event&, context&>,
                      "courier: a transform takes (const Event&) or (const Event&, courier::context&) and returns "
                      "the payload (a described struct or courier::json_text) or a std::optional of it");
        detail::event_actions& actions = actions_of(describe_event<Event>(), [this](detail::event_actions& added) {
            router_.listen<Event>("actions", [state = state_, &added](const Event& event, context& ctx) {
                return detail::run_actions(state, added, &event, ctx);
            });
        });
        add_action(
            actions, std::move(options),
            [transform = std::move(transform)](const void* event, context& ctx) mutable -> std::optional<std::string> {
                auto payload = detail::call_transform(transform, *static_cast<const Event*>(event), ctx);
                if constexpr (detail::is_optional<decltype(payload)>::value)
                {
                    if (!payload)
                        return std::nullopt;
                    return json_encode(*payload);
                }
                else
                    return json_encode(payload);
            });
        return *this;
    }

    /// The router that takes the input route's messages (see the top of this file).
    event_router& router() noexcept { return router_; }
    const output_queues& outputs() const noexcept;

    /// Every action's counters, by event and then in the order they run.
    std::vector<action_stats> stats() const;

private:
    detail::event_actions& actions_of(const event_descriptor& event,
                                      const std::function<void(detail::event_actions&)>& on_first);
    void add_action(detail::event_actions& actions, action_options options, detail::transform_fn transform);

    std::shared_ptr<detail::choreography_state> state_;
    event_router router_;
};

} // namespace courier

#endif
