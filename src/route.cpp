// The non-template parts of a route.
#include <courier/error.hpp>
#include <courier/route.hpp>

namespace courier {

route::route(std::string name, std::shared_ptr<courier::provider> source, detail::invoke_fn invoke, route_options options)
    : name_(std::move(name)),
      source_(std::move(source)),
      invoke_(std::move(invoke)),
      options_(std::move(options)),
      stats_(std::make_unique<route_stats>())
{
    if (!source_)
        throw error(errc::bad_configuration, "route has no provider", {.route = name_});
}

route::route(route&&) noexcept = default;
route& route::operator=(route&&) noexcept = default;
route::~route() = default;

} // namespace courier
