// Names for route states and the error codes provider failures are counted under.
#include "metrics/route_metrics.hpp"

#include <courier/error.hpp>

namespace courier::detail::metrics {

std::string_view to_string(route_state s) noexcept
{
    switch (s)
    {
    case route_state::starting: return "starting";
    case route_state::running: return "running";
    case route_state::stopping: return "stopping";
    case route_state::stopped: return "stopped";
    case route_state::failed: return "failed";
    }
    return "?";
}

std::string error_code_of(std::exception_ptr error)
{
    try
    {
        std::rethrow_exception(error);
    }
    catch (const courier::error& e)
    {
        if (e.code().category() == courier_category())
            return std::string(to_string(static_cast<errc>(e.code().value())));
        return "other";
    }
    catch (...)
    {
        return "other";
    }
}

} // namespace courier::detail::metrics
