// Where an event's name travels in a message: where an event route reads it, and where an
// event bus writes it. Give both the same location (the defaults are the same) and what a
// bus sends, a route dispatches.
//
// - A message attribute (the default, "event_name"; microcosm-pubsub's "media_type"): the
//   payload is the whole body. Reading it is a lookup in the attributes.
// - A top-level member of a JSON body (briefy-choreographer's "event_name"): the payload is
//   the whole body, or one member of it, such as "data".
// - Fixed for the route (eventing's queue per event): every message of the route is that
//   event, and nothing is written.
#ifndef COURIER_EVENTS_NAME_LOCATION_HPP
#define COURIER_EVENTS_NAME_LOCATION_HPP

#include <string>
#include <utility>

namespace courier {

/// What identifies an event on the wire: its name, or its media type (`event_options`).
enum class event_key
{
    name,
    media_type,
};

/// Where the event's name is read and written (see the top of this file).
class event_name_location
{
public:
    enum class kind
    {
        attribute,
        body_member,
        fixed,
    };

    /// The String attribute `attribute_name` holds the event's name (or media type).
    static event_name_location attribute(std::string attribute_name = "event_name", event_key key = event_key::name)
    {
        return {kind::attribute, std::move(attribute_name), {}, key};
    }

    /// microcosm-pubsub: the attribute "media_type" holds the event's media type.
    static event_name_location media_type_attribute() { return attribute("media_type", event_key::media_type); }

    /// The body is a JSON object whose top-level string member `member` holds the name. The
    /// payload is the whole body, or, when `payload_member` is set, that member of it:
    /// `{"event_name": "lead.created", "data": {...}}` is `body_member("event_name", "data")`.
    static event_name_location body_member(std::string member = "event_name", std::string payload_member = {},
                                           event_key key = event_key::name)
    {
        return {kind::body_member, std::move(member), std::move(payload_member), key};
    }

    /// Every message is the event called `name` (the route's queue holds only that event).
    static event_name_location fixed(std::string name) { return {kind::fixed, std::move(name), {}, event_key::name}; }

    kind where() const noexcept { return where_; }
    /// The attribute or body member holding the name; for `fixed`, the name itself.
    const std::string& field() const noexcept { return field_; }
    /// For `body_member`: the member holding the payload; empty for the whole body.
    const std::string& payload_member() const noexcept { return payload_member_; }
    /// Whether the name read is matched against events' names or their media types.
    event_key key() const noexcept { return key_; }

private:
    event_name_location(kind where, std::string field, std::string payload_member, event_key key)
        : where_(where),
          field_(std::move(field)),
          payload_member_(std::move(payload_member)),
          key_(key)
    {
    }

    kind where_;
    std::string field_;
    std::string payload_member_;
    event_key key_;
};

} // namespace courier

#endif
