// Event descriptors and the do-nothing defaults of envelope pipelines.
#include <courier/events/event.hpp>
#include <courier/events/pipeline.hpp>

#include <boost/core/demangle.hpp>

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

} // namespace detail

void envelope_pipeline::on_send(outgoing_envelope&, const event_descriptor&, const context*)
{
}

void envelope_pipeline::on_handle(const incoming_envelope&, const listener_descriptor&, context&)
{
}

} // namespace courier
