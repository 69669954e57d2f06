// Retries, delivery counts and listener queue names of the broker providers (see retry.hpp,
// courier/broker/listener_queue.hpp).
#include "broker/retry.hpp"

#include "courier/broker/listener_queue.hpp"
#include "courier/error.hpp"

#include <algorithm>
#include <charconv>
#include <limits>

namespace courier::broker {

using std::chrono::milliseconds;

void validate(const retry_policy& p, std::string_view queue)
{
    const auto fail = [&](const std::string& what) {
        return error(errc::bad_configuration, "retry policy: " + what, {.queue = std::string(queue)});
    };
    if (p.buckets.empty())
        throw fail("no retry buckets");
    for (const auto b : p.buckets)
        if (b <= milliseconds::zero() || b.count() > std::numeric_limits<std::uint32_t>::max())
            throw fail("a retry bucket must be 1 ms .. 2^32-1 ms, not " + std::to_string(b.count()) + " ms");
}

milliseconds retry_bucket(const retry_policy& p, milliseconds delay)
{
    milliseconds best = milliseconds::max(), longest = milliseconds::zero();
    for (const auto b : p.buckets)
    {
        longest = std::max(longest, b);
        if (b >= delay)
            best = std::min(best, b);
    }
    return best == milliseconds::max() ? longest : best;
}

std::string duration_label(milliseconds d)
{
    const auto n = d.count();
    if (n % 3'600'000 == 0)
        return std::to_string(n / 3'600'000) + "h";
    if (n % 60'000 == 0)
        return std::to_string(n / 60'000) + "m";
    if (n % 1000 == 0)
        return std::to_string(n / 1000) + "s";
    return std::to_string(n) + "ms";
}

std::string retry_queue_name(std::string_view queue, milliseconds bucket)
{
    return std::string(queue) + ".retry." + duration_label(bucket);
}

retry_step plan_retry(const retry_policy& p, std::uint32_t receive_count, milliseconds delay)
{
    if (p.max_attempts > 0 && receive_count >= p.max_attempts)
        return retry_step::dead_letter;
    return delay <= milliseconds::zero() ? retry_step::release : retry_step::retry_queue;
}

std::uint32_t receive_count(std::uint32_t before, std::optional<std::uint64_t> delivery_count, bool redelivered)
{
    const std::uint64_t own = delivery_count ? *delivery_count + 1 : (redelivered ? 2 : 1);
    return static_cast<std::uint32_t>(std::min<std::uint64_t>(before + own, std::numeric_limits<std::uint32_t>::max()));
}

std::optional<std::uint64_t> parse_count(std::string_view text)
{
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size())
        return std::nullopt;
    return v;
}

std::string queue_name(const listener_queue& l)
{
    if (l.event.empty() || l.listener.empty())
        throw error(errc::bad_configuration, "a listener queue needs an event and a listener name");
    if (!l.per_process)
        return l.event + "::" + l.listener;
    if (l.server_name.empty())
        throw error(errc::bad_configuration, "a per_process listener needs a server name",
                    {.queue = l.event + "::" + l.listener});
    return l.event + "::" + l.listener + "-" + l.server_name;
}

} // namespace courier::broker
