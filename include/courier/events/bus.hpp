// The event bus: sends typed events to the destination registered for their name
// (eventing's `send_event`, microcosm-pubsub's `produce`).
//
//     courier::event_bus bus;                                  // the name goes in the "event_name" attribute
//     bus.send_to<lead_created>(courier::make_sqs_publisher(sqs, leads_url));
//     bus.send_to("lead.deleted", courier::make_sns_publisher(sns, topic_arn));
//     const lead_created lead{"L1", "a@example.com"};
//     const std::string id = co_await bus.send(lead);         // from a listener: bus.send(lead, ctx)
//
// `send` encodes the event with `json_encode`, writes its name where the bus's
// `event_name_location` says (give an event router the same location, and what the bus sends
// the router dispatches), runs the envelope pipelines, and publishes through the event's
// publisher: an SQS queue, an SNS topic, the memory queue, a STOMP or AMQP destination.
//
// Everything but the publishing happens when `send` is called: an event without a
// destination, or a pipeline refusing it, throws there. The bus must outlive the returned
// awaitable.
#ifndef COURIER_EVENTS_BUS_HPP
#define COURIER_EVENTS_BUS_HPP

#include <courier/context.hpp>
#include <courier/events/event.hpp>
#include <courier/events/name_location.hpp>
#include <courier/events/pipeline.hpp>
#include <courier/json_encode.hpp>
#include <courier/publisher.hpp>

#include <boost/asio/awaitable.hpp>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace courier {

/// Sends events to their destinations (see the top of this file).
///
/// Thread safety: configure before sending; `send` may then be called from any thread (the
/// publishers' and pipelines' own rules apply).
class event_bus
{
public:
    explicit event_bus(event_name_location where = event_name_location::attribute());

    /// Events of type `Event` go to `destination`. Throws `errc::bad_configuration` if
    /// another type registered the same name.
    template <class Event> event_bus& send_to(std::shared_ptr<publisher> destination)
    {
        return register_destination(describe_event<Event>(), std::move(destination));
    }
    /// Events with this name (or media type, when the location is keyed by media type) go to
    /// `destination`, whatever their type.
    event_bus& send_to(std::string key, std::shared_ptr<publisher> destination);
    /// Events without a destination of their own go to `destination`.
    event_bus& send_others_to(std::shared_ptr<publisher> destination);
    /// Adds a pipeline; pipelines run in the order added.
    event_bus& add_pipeline(std::shared_ptr<envelope_pipeline> pipeline);

    const event_name_location& location() const noexcept { return where_; }
    /// Whether an event with this key has a destination (its own, or the default).
    bool has_destination(std::string_view key) const noexcept;

    /// Sends `event` with `headers`; returns the message id the destination assigned.
    template <class Event> boost::asio::awaitable<std::string> send(const Event& event, attribute_map headers = {})
    {
        return send_json(describe_event<Event>(), json_encode(event), std::move(headers), nullptr);
    }
    /// Sends `event` from the handling of another message (`cause`): pipelines carry what
    /// they propagate (a correlation id) from it.
    template <class Event>
    boost::asio::awaitable<std::string> send(const Event& event, const context& cause, attribute_map headers = {})
    {
        return send_json(describe_event<Event>(), json_encode(event), std::move(headers), &cause);
    }
    /// Sends an event already encoded as JSON (`cause` may be null).
    boost::asio::awaitable<std::string> send_json(const event_descriptor& event, std::string json,
                                                  attribute_map headers = {}, const context* cause = nullptr) const;

private:
    event_bus& register_destination(const event_descriptor& event, std::shared_ptr<publisher> destination);
    std::string_view key_of(const event_descriptor& event) const;
    std::string body_with_name(std::string_view key, std::string json) const;

    struct registered_destination
    {
        std::shared_ptr<publisher> to;
        const event_descriptor* event = nullptr; // the type registered for it, if any
    };

    event_name_location where_;
    std::map<std::string, registered_destination, std::less<>> destinations_;
    std::shared_ptr<publisher> others_;
    std::vector<std::shared_ptr<envelope_pipeline>> pipelines_;
};

} // namespace courier

#endif
