// Tests of the standard retry mode policy (src/http/retry.hpp): attempt limit, backoff
// ceilings and jitter, and the retry quota's drain and refill. A scripted random source makes
// every delay exact.
#include "http/retry.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

using courier::http::attempt_failure;
using courier::http::retry_options;
using courier::http::retry_policy;
using courier::http::retry_state;
using courier::http::retry_verdict;
using std::chrono::milliseconds;

namespace {

constexpr attempt_failure transient{.retryable = true};
constexpr attempt_failure timed_out{.retryable = true, .timeout = true};
constexpr attempt_failure throttled{.retryable = true, .throttling = true};

// Returns the given values in turn, then repeats the last.
courier::http::random_source script(std::vector<double> values)
{
    return [values, i = std::size_t{0}]() mutable { return values[std::min(i++, values.size() - 1)]; };
}

} // namespace

TEST_CASE("retry: three attempts by default, then attempts_exhausted")
{
    retry_policy policy({}, script({0.5}));
    retry_state state(policy);
    auto first = state.on_failure(transient);
    CHECK(first);
    CHECK(first.delay == milliseconds(500)); // 0.5 * min(1 s * 2^0, 20 s)
    auto second = state.on_failure(transient);
    CHECK(second);
    CHECK(second.delay == milliseconds(1000)); // 0.5 * 2 s
    auto third = state.on_failure(transient);
    CHECK_FALSE(third);
    CHECK(third.verdict == retry_verdict::attempts_exhausted);
    CHECK(state.attempts() == 3);
}

TEST_CASE("retry: a permanent failure is not retried and costs nothing")
{
    retry_policy policy;
    retry_state state(policy);
    auto decision = state.on_failure({.retryable = false});
    CHECK(decision.verdict == retry_verdict::not_retryable);
    CHECK(policy.available_tokens() == 500);
}

TEST_CASE("retry: delays stay within [0, min(base * 2^(n-1), max_backoff))")
{
    retry_options options;
    options.max_attempts = 12;
    for (double r : {0.0, 0.25, 0.999999})
    {
        retry_policy policy(options, script({r}));
        retry_state state(policy);
        for (unsigned n = 1; n < options.max_attempts; ++n)
        {
            auto d = state.on_failure(transient);
            REQUIRE(d);
            const double ceiling = std::min(1000.0 * (1u << (n - 1)), 20000.0);
            CHECK(d.delay.count() >= 0);
            CHECK(static_cast<double>(d.delay.count()) <= r * ceiling);
            CHECK(static_cast<double>(d.delay.count()) > r * ceiling - 1.0);
        }
    }
}

TEST_CASE("retry: the default random source stays within the bounds")
{
    retry_options options;
    options.max_attempts = 100;
    options.quota_capacity = 10'000;
    retry_policy policy(options);
    retry_state state(policy);
    for (unsigned n = 1; n < 100; ++n)
    {
        auto d = state.on_failure(transient);
        REQUIRE(d);
        CHECK(d.delay >= milliseconds(0));
        CHECK(d.delay <= milliseconds(20000));
    }
}

TEST_CASE("retry: throttling uses its own base delay, and the 20 s cap applies")
{
    retry_options options;
    options.base_delay = milliseconds(50);
    options.throttling_base_delay = milliseconds(1000);
    options.max_attempts = 10;
    retry_policy policy(options, script({1.0})); // 1.0 is clamped: the delay is the ceiling
    retry_state state(policy);
    CHECK(state.on_failure(transient).delay == milliseconds(50));
    CHECK(state.on_failure(throttled).delay == milliseconds(2000));
    CHECK(state.on_failure(transient).delay == milliseconds(200));
    for (int i = 0; i < 5; ++i)
        (void)state.on_failure(throttled);
    CHECK(state.on_failure(throttled).delay == milliseconds(20000));
}

TEST_CASE("retry: the quota drains by 5 per retry and 10 per timeout, then refuses")
{
    retry_policy policy({}, script({0.0}));
    for (int i = 0; i < 40; ++i)
    {
        retry_state state(policy);
        REQUIRE(state.on_failure(transient));
    }
    CHECK(policy.available_tokens() == 300);
    for (int i = 0; i < 30; ++i)
    {
        retry_state state(policy);
        REQUIRE(state.on_failure(timed_out));
    }
    CHECK(policy.available_tokens() == 0);
    retry_state state(policy);
    auto decision = state.on_failure(transient);
    CHECK(decision.verdict == retry_verdict::quota_exhausted);
    CHECK(policy.available_tokens() == 0);
}

TEST_CASE("retry: a timeout needs 10 tokens even when 5 are left")
{
    retry_options options;
    options.quota_capacity = 5;
    retry_policy policy(options, script({0.0}));
    retry_state a(policy);
    CHECK(a.on_failure(timed_out).verdict == retry_verdict::quota_exhausted);
    retry_state b(policy);
    CHECK(b.on_failure(transient));
    CHECK(policy.available_tokens() == 0);
}

TEST_CASE("retry: successes refill the quota, capped at its capacity")
{
    retry_policy policy({}, script({0.0}));
    {
        retry_state first_try(policy);
        first_try.on_success();
    }
    CHECK(policy.available_tokens() == 500); // already full

    retry_state failed(policy);
    REQUIRE(failed.on_failure(timed_out));
    REQUIRE(failed.on_failure(transient));
    CHECK(policy.available_tokens() == 485);
    failed.on_success(); // after retries: the last retry's cost comes back
    CHECK(policy.available_tokens() == 490);

    for (int i = 0; i < 7; ++i)
    {
        retry_state ok(policy);
        ok.on_success(); // first attempt: +1 each
    }
    CHECK(policy.available_tokens() == 497);
    for (int i = 0; i < 10; ++i)
    {
        retry_state ok(policy);
        ok.on_success();
    }
    CHECK(policy.available_tokens() == 500);
}

TEST_CASE("retry: max_attempts 1 disables retries")
{
    retry_options options;
    options.max_attempts = 1;
    retry_policy policy(options);
    retry_state state(policy);
    CHECK(state.on_failure(transient).verdict == retry_verdict::attempts_exhausted);
    CHECK(policy.available_tokens() == 500);
}
