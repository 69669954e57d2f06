// Event descriptors and the do-nothing defaults of envelope pipelines.
#include "events/event_keys.hpp"

#include <courier/error.hpp>
#include <courier/events/event.hpp>
#include <courier/events/pipeline.hpp>

#include <boost/core/demangle.hpp>

#include <fmt/format.h>

namespace courier {

namespace detail {

std::string unqualified_type_name(const std::type_info& type)
{
    // "demo::hello_event" -> "hello_event"; "demo::box<demo::item>" -> "box<demo::item>":
    // only the scopes before the template's own name go.
    const std::string full = boost::core::demangle(type.name());
    const auto template_start = full.find('<');
    const auto scope_end = full.rfind("::", template_start);
    return scope_end == std::string::npos ? full : full.substr(scope_end + 2);
}

std::string_view event_key_of(const event_name_location& where, const event_descriptor& event, std::string_view owner)
{
    if (where.key() == event_key::name)
        return event.name;
    if (event.media_type.empty())
        throw error(errc::bad_configuration,
                    fmt::format("{}: event '{}' declares no media type, and the {} keys events by media type "
                                "(give it `courier_event{{.media_type = ...}}`)",
                                owner, event.name, owner));
    return event.media_type;
}

} // namespace detail

void envelope_pipeline::on_send(outgoing_envelope&, const event_descriptor&, const context*)
{
}

void envelope_pipeline::on_handle(const incoming_envelope&, const listener_descriptor&, context&)
{
}

} // namespace courier
