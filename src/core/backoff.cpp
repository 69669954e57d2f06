// Exponential backoff with jitter, and the error handler that retries with it.
#include <courier/backoff.hpp>
#include <courier/error.hpp>

#include <algorithm>
#include <cmath>
#include <random>

namespace courier {

std::chrono::milliseconds backoff_delay(const backoff_options& options, std::uint32_t receive_count,
                                        const std::function<double()>& random01)
{
    // base * 2^(n-1), computed in double so large receive counts saturate at `max` instead
    // of overflowing.
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
        ctx.log(log_level::warning, "failed (delivery {}): {}; retrying in {} ms", ctx.raw().receive_count,
                error_text(error, ctx), delay.count());
        return error_action::retry_after(delay);
    };
}

} // namespace courier
