// Backoff computation, the retrying error handler and exception descriptions.
#include <courier/error.hpp>
#include <courier/outcome.hpp>
#include <courier/route.hpp>

#include <algorithm>
#include <cmath>
#include <random>

namespace courier {

std::chrono::milliseconds backoff_delay(const backoff_options& options,
                                        std::uint32_t receive_count,
                                        const std::function<double()>& random01)
{
    // base * 2^(n-1), computed in double so large receive counts saturate at `max`
    // instead of overflowing.
    const auto exponent = std::min<std::uint32_t>(receive_count == 0 ? 0 : receive_count - 1, 62);
    const double raw = static_cast<double>(options.base.count()) * std::ldexp(1.0, static_cast<int>(exponent));
    const double capped = std::min(raw, static_cast<double>(options.max.count()));
    if (!options.jitter)
        return std::chrono::milliseconds(static_cast<std::int64_t>(capped));
    double r;
    if (random01)
        r = random01();
    else
    {
        thread_local std::minstd_rand engine{std::random_device{}()};
        r = std::uniform_real_distribution<double>(0.0, 1.0)(engine);
    }
    // "Equal jitter": half fixed, half random, so a retry never comes back immediately.
    return std::chrono::milliseconds(static_cast<std::int64_t>(capped / 2 + r * capped / 2));
}

error_handler retry_with_backoff(backoff_options options)
{
    return [options](const context& ctx, std::exception_ptr error) {
        const auto delay = backoff_delay(options, ctx.raw().receive_count);
        ctx.log(log_level::warning,
                "failed (delivery {}): {}; retrying in {} ms",
                ctx.raw().receive_count,
                describe(error),
                delay.count());
        return error_action::retry_after(delay);
    };
}

std::string describe(std::exception_ptr error)
{
    if (!error)
        return "no error";
    try
    {
        std::rethrow_exception(error);
    }
    catch (const std::exception& e)
    {
        return e.what();
    }
    catch (...)
    {
        return "unknown exception";
    }
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
    // Outcome exceptions keep their meaning; everything else becomes a translation
    // error that names the route and message, keeping the translator's own text.
    const error_context where{.route = std::string(ctx.route()),
                              .message_id = std::string(ctx.message_id())};
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
    catch (const error& e)
    {
        throw error(errc::translation_failed,
                    e.code() == errc::translation_failed ? e.detail() : e.what(),
                    where);
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
