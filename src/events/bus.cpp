// The event bus: naming, intercepting and routing an encoded event to its publisher.
#include "events/event_keys.hpp"

#include <courier/error.hpp>
#include <courier/events/bus.hpp>

#include <boost/core/demangle.hpp>

#include <fmt/format.h>

namespace courier {

event_bus::event_bus(event_name_location where)
    : where_(std::move(where))
{
    if (where_.where() == event_name_location::kind::fixed && where_.field().empty())
        throw error(errc::bad_configuration, "event_bus: a fixed event name must not be empty");
}

std::string_view event_bus::key_of(const event_descriptor& event) const
{
    return detail::event_key_of(where_, event, "event_bus");
}

event_bus& event_bus::register_destination(const event_descriptor& event, std::shared_ptr<publisher> to)
{
    const std::string_view key = key_of(event);
    if (const auto it = destinations_.find(key);
        it != destinations_.end() && it->second.event != nullptr && it->second.event->type != event.type)
        throw error(errc::bad_configuration,
                    fmt::format("event_bus: {} and {} are both event '{}'; give one another name",
                                boost::core::demangle(it->second.event->type.name()),
                                boost::core::demangle(event.type.name()), key));
    send_to(std::string(key), std::move(to));
    destinations_.find(key)->second.event = &event;
    return *this;
}

event_bus& event_bus::send_to(std::string key, std::shared_ptr<publisher> to)
{
    if (key.empty())
        throw error(errc::bad_configuration, "event_bus: an event name must not be empty");
    if (!to)
        throw error(errc::bad_configuration, fmt::format("event_bus: the destination of '{}' is null", key));
    destinations_[std::move(key)].to = std::move(to);
    return *this;
}

event_bus& event_bus::send_others_to(std::shared_ptr<publisher> to)
{
    if (!to)
        throw error(errc::bad_configuration, "event_bus: the default destination is null");
    others_ = std::move(to);
    return *this;
}

event_bus& event_bus::add_pipeline(std::shared_ptr<envelope_pipeline> pipeline)
{
    if (!pipeline)
        throw error(errc::bad_configuration, "event_bus: a pipeline must not be null");
    pipelines_.push_back(std::move(pipeline));
    return *this;
}

bool event_bus::has_destination(std::string_view key) const noexcept
{
    return others_ || destinations_.find(key) != destinations_.end();
}

std::string event_bus::body_with_name(std::string_view key, std::string json) const
{
    if (where_.where() != event_name_location::kind::body_member)
        return json;
    const detail::json_path root{};
    std::string body = "{";
    detail::json_write_string(body, where_.field(), root);
    body += ':';
    detail::json_write_string(body, key, root);
    if (!where_.payload_member().empty())
    {
        body += ',';
        detail::json_write_string(body, where_.payload_member(), root);
        body += ':';
        body += json;
        body += '}';
        return body;
    }
    // The name joins the event's own members: `{"event_name":"x","id":1}`.
    if (json.size() < 2 || json.front() != '{')
        throw error(errc::bad_configuration,
                    fmt::format("event_bus: event '{}' is not a JSON object, so the name cannot be one of its members "
                                "(name a payload member in the location)",
                                key));
    if (json != "{}")
        body += ',';
    body.append(json, 1);
    return body;
}

boost::asio::awaitable<std::string> event_bus::send_json(const event_descriptor& event, std::string json,
                                                         attribute_map headers, const context* cause) const
{
    const std::string_view key = key_of(event);
    publisher* to = others_.get();
    if (const auto it = destinations_.find(key); it != destinations_.end())
        to = it->second.to.get();
    if (to == nullptr)
        throw error(errc::bad_configuration, fmt::format("event_bus: no destination for event '{}' (destinations: {})",
                                                         key, detail::joined_keys(destinations_)));

    if (where_.where() == event_name_location::kind::attribute)
        headers.insert_or_assign(where_.field(), attribute{"String", std::string(key)});
    outgoing_message msg{.body = body_with_name(key, std::move(json)), .attributes = std::move(headers)};
    outgoing_envelope envelope(msg.body, msg.attributes);
    for (const auto& pipeline : pipelines_)
        pipeline->on_send(envelope, event, cause);
    return to->publish(std::move(msg));
}

} // namespace courier
