// The type-keyed values of a collector's context.
#include <courier/collector/context.hpp>
#include <courier/collector/errc.hpp>
#include <courier/error.hpp>

#include <boost/core/demangle.hpp>

namespace courier::event_collector {

void context::throw_missing(const std::type_info& type) const
{
    throw courier::error(errc::bad_value, "the collector's context holds no " + boost::core::demangle(type.name()) +
                                              " (store it in the lifecycle setup, or before the queue starts)");
}

} // namespace courier::event_collector
