// The non-template parts of a route and of the provider contract: construction checks,
// translation errors, and the names of settlements.
#include <courier/error.hpp>
#include <courier/route.hpp>
#include <courier/settlement.hpp>

#include <algorithm>

namespace courier {

route::route(std::string name, std::shared_ptr<courier::provider> source, detail::invoke_fn invoke,
             route_options options)
    : name_(std::move(name)),
      provider_(std::move(source)),
      invoke_(std::move(invoke)),
      options_(std::move(options)),
      counters_(std::make_unique<detail::route_counters>())
{
    if (!provider_)
        throw error(errc::bad_configuration, "route has no provider", {.route = name_});
}

route::route(std::string name, std::shared_ptr<courier::provider> source, detail::batch_invoke_fn invoke,
             batch_options batching, route_options options)
    : route(std::move(name), std::move(source), detail::invoke_fn{}, std::move(options))
{
    batch_invoke_ = std::move(invoke);
    batching_ = batching;
    if (!batch_invoke_)
        throw error(errc::bad_configuration, "batch route has no handler", {.route = name_});
    if (batching_.max_messages == 0)
        throw error(errc::bad_configuration, "a batch takes at least one message", {.route = name_});
    batching_.max_messages = std::min(batching_.max_messages, options_.max_in_flight);
}

route::route(route&&) noexcept = default;
route& route::operator=(route&&) noexcept = default;
route::~route() = default;

boost::asio::awaitable<void> provider::open(std::size_t)
{
    co_return;
}

std::string_view to_string(settlement s) noexcept
{
    switch (s)
    {
    case settlement::ack: return "ack";
    case settlement::retry: return "retry";
    case settlement::release: return "release";
    case settlement::leave: return "leave";
    }
    return "?";
}

std::string error_text(std::exception_ptr error, const context& ctx)
{
    try
    {
        if (error)
            std::rethrow_exception(error);
    }
    catch (const courier::error& e)
    {
        if ((e.context().route.empty() || e.context().route == ctx.route()) &&
            (e.context().message_id.empty() || e.context().message_id == ctx.message_id()))
            return e.without_route_and_message();
        return e.what();
    }
    catch (...)
    {
    }
    return error_text(error);
}

bool is_translation_error(std::exception_ptr error)
{
    if (!error)
        return false;
    try
    {
        std::rethrow_exception(error);
    }
    catch (const courier::error& e)
    {
        return e.code() == errc::translation_failed;
    }
    catch (...)
    {
        return false;
    }
}

namespace detail {

void rethrow_as_translation_error(const context& ctx)
{
    // Outcome exceptions keep their meaning; everything else becomes a translation error
    // that names the route and message, keeping the translator's own text.
    const error_context where{.route = std::string(ctx.route()), .message_id = std::string(ctx.message_id())};
    try
    {
        throw;
    }
    catch (const delete_message&)
    {
        throw;
    }
    catch (const retry_message&)
    {
        throw;
    }
    catch (const leave_message&)
    {
        throw;
    }
    catch (const error& e)
    {
        throw error(errc::translation_failed, e.code() == errc::translation_failed ? e.detail() : e.what(), where);
    }
    catch (const std::exception& e)
    {
        throw error(errc::translation_failed, e.what(), where);
    }
    catch (...)
    {
        throw error(errc::translation_failed, "translator threw a non-standard exception", where);
    }
}

} // namespace detail
} // namespace courier
