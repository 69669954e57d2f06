// What the router and the bus share about event keys: the key an event is known by under a
// name location, and the list of known keys an error names.
#ifndef COURIER_SRC_EVENTS_EVENT_KEYS_HPP
#define COURIER_SRC_EVENTS_EVENT_KEYS_HPP

#include <courier/events/event.hpp>
#include <courier/events/name_location.hpp>

#include <string>
#include <string_view>

namespace courier::detail {

/// The event's name, or its media type when `where` is keyed by media type. Throws
/// `errc::bad_configuration`, naming `owner`, for an event without a media type then.
std::string_view event_key_of(const event_name_location& where, const event_descriptor& event, std::string_view owner);

/// "a, b, c" for the keys of `map`, or "none".
template <class Map> std::string joined_keys(const Map& map)
{
    std::string keys;
    for (const auto& [key, value] : map)
        keys += (keys.empty() ? "" : ", ") + key;
    return keys.empty() ? "none" : keys;
}

} // namespace courier::detail

#endif
