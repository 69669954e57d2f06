// Tests of the refresh policy of temporary credentials (src/aws/refreshing_provider.hpp) on
// simulated time, with a source scripted in memory: one fetch shared by concurrent callers,
// refreshes in the background while callers keep the cached set, failed refreshes, expiry,
// the minimum interval between fetches, and invalidation of credentials a server refused.
// No sockets, no real waits: hours of credential lifetime take microseconds.
#include "credentials_support.hpp"

#include <courier/aws/credentials_provider.hpp>

#include <boost/asio/experimental/awaitable_operators.hpp>

#include <doctest/doctest.h>

#include <variant>

namespace asio = boost::asio;
namespace aws = courier::aws;
using namespace std::chrono_literals;
using namespace boost::asio::experimental::awaitable_operators;
using courier::errc;
using courier_test::contains;
using courier_test::log_capture;
using courier_test::run_simulated;
using courier_test::scripted_source;

namespace {

struct fixture
{
    asio::io_context io;
    std::shared_ptr<courier::testing::simulated_clock> clock = std::make_shared<courier::testing::simulated_clock>();
    log_capture log;

    std::shared_ptr<scripted_source> source(std::chrono::milliseconds lifetime)
    {
        return std::make_shared<scripted_source>(io.get_executor(),
                                                 aws::refresh_settings{.log = log.make(), .clock = clock}, lifetime);
    }

    aws::credentials get(aws::credentials_provider& p)
    {
        return run_simulated(io, *clock, [&] { return p.get(); });
    }

    courier::error get_error(aws::credentials_provider& p)
    {
        return courier_test::error_from([&] { get(p); });
    }
};

} // namespace

TEST_CASE_FIXTURE(fixture, "refresh: callers share one fetch, and due credentials refresh in the background")
{
    auto s = source(2min); // always within the 5-minute margin: due as soon as fetched
    s->hold = true;
    std::vector<std::string> got;
    for (int i = 0; i < 3; ++i)
        asio::co_spawn(
            io, [&]() -> asio::awaitable<void> { got.push_back((co_await s->get()).access_key_id); }, asio::detached);
    clock->run(io); // until idle: the fetch is held
    CHECK(s->fetches == 1);
    CHECK(s->waiting == 1);
    CHECK(got.empty());
    s->release();
    clock->run(io);
    CHECK(got == std::vector<std::string>{"AKID-1", "AKID-1", "AKID-1"});

    // Due, but fetched less than the minimum interval (10 s) ago: no refresh yet.
    CHECK(get(*s).access_key_id == "AKID-1");
    CHECK(s->fetches == 1);

    // Then one refresh, in the background: callers get the cached set while it runs.
    clock->advance(10s);
    s->hold = true;
    CHECK(get(*s).access_key_id == "AKID-1");
    CHECK(get(*s).access_key_id == "AKID-1");
    CHECK(s->fetches == 2);
    CHECK(s->waiting == 1);
    s->release();
    clock->run(io);
    CHECK(log.contains("INFO credentials: got AKID-2 from scripted source"));
    CHECK(get(*s).access_key_id == "AKID-2");

    // AKID-2 is due too: the next refresh waits for the interval since the last one started.
    clock->advance(9s);
    CHECK(get(*s).access_key_id == "AKID-2");
    CHECK(s->fetches == 2);
    clock->advance(1s);
    CHECK(get(*s).access_key_id == "AKID-2");
    CHECK(s->fetches == 3);
    CHECK(get(*s).access_key_id == "AKID-3");
}

TEST_CASE_FIXTURE(fixture, "refresh: credentials far from expiry are not fetched again")
{
    auto s = source(1h);
    CHECK(get(*s).access_key_id == "AKID-1");
    clock->advance(54min);
    CHECK(get(*s).access_key_id == "AKID-1");
    CHECK(s->fetches == 1);
    clock->advance(1min + 1s); // within 5 minutes of expiry: refreshed in the background
    CHECK(get(*s).access_key_id == "AKID-1");
    CHECK(get(*s).access_key_id == "AKID-2");
    CHECK(s->fetches == 2);
}

TEST_CASE_FIXTURE(fixture, "refresh: a cancelled caller stops waiting; the fetch goes on for the others")
{
    auto s = source(1h);
    s->hold = true;
    const auto first =
        run_simulated(io, *clock, [&]() -> asio::awaitable<std::variant<aws::credentials, std::monostate>> {
            co_return co_await (s->get() || clock->sleep_for(50ms)); // the sleep wins: the fetch is held
        });
    CHECK(first.index() == 1);
    CHECK(s->waiting == 1);
    s->release();
    CHECK(get(*s).access_key_id == "AKID-1"); // the fetch the cancelled caller started
    CHECK(s->fetches == 1);
}

TEST_CASE_FIXTURE(fixture, "refresh: a failed refresh keeps still-valid credentials and logs a warning")
{
    auto s = source(2min);
    s->failing = {2};
    CHECK(get(*s).access_key_id == "AKID-1");
    clock->advance(10s);
    CHECK(get(*s).access_key_id == "AKID-1"); // starts the refresh
    clock->run(io);
    CHECK(log.contains("WARN credentials: refresh from scripted source failed, keeping the cached ones until "
                       "they expire at"));
    CHECK(log.contains("injected failure 2"));
    CHECK(get(*s).access_key_id == "AKID-1");
    CHECK(s->fetches == 2);
    clock->advance(10s); // the next refresh, after the interval
    CHECK(get(*s).access_key_id == "AKID-1");
    CHECK(get(*s).access_key_id == "AKID-3");
}

TEST_CASE_FIXTURE(fixture, "refresh: expired credentials and a failing fetch give no_credentials, then a pause")
{
    auto s = source(600ms);
    s->failing = {2};
    CHECK(get(*s).access_key_id == "AKID-1");
    clock->advance(700ms);
    const auto e = get_error(*s);
    CHECK(e.code() == errc::no_credentials);
    CHECK(contains(e.what(), "could not get credentials from scripted source: injected failure 2"));
    CHECK(s->fetches == 2);

    // Right after a failed fetch, callers get its failure without another fetch.
    const auto again = get_error(*s);
    CHECK(again.code() == errc::no_credentials);
    CHECK(contains(again.what(), "injected failure 2 (fetches start at most every 10000 ms)"));
    CHECK(s->fetches == 2);

    clock->advance(10s);
    CHECK(get(*s).access_key_id == "AKID-3");
}

TEST_CASE_FIXTURE(fixture, "invalidate: refused credentials are dropped, but fetched at most once per interval")
{
    auto s = source(1h);
    const auto first = get(*s);
    CHECK(first.access_key_id == "AKID-1");

    // Fetched just now: signing again with a new fetch is refused, the cache stays.
    CHECK_FALSE(s->invalidate(first));
    CHECK(get(*s).access_key_id == "AKID-1");
    CHECK(s->fetches == 1);

    clock->advance(10s);
    CHECK(s->invalidate(first));
    CHECK(get(*s).access_key_id == "AKID-2"); // waits for the fetch
    CHECK(s->fetches == 2);

    // Credentials already replaced: nothing to drop, and a new signature will use the new ones.
    CHECK(s->invalidate(first));
    CHECK(get(*s).access_key_id == "AKID-2");
    CHECK(s->fetches == 2);

    // Only the exact set is dropped: a token rotated under the same key id is another set.
    clock->advance(10s);
    aws::credentials rotated = get(*s);
    rotated.session_token = "OTHER";
    CHECK(s->invalidate(rotated));
    CHECK(get(*s).access_key_id == "AKID-2");
    CHECK(s->fetches == 2);
}

TEST_CASE_FIXTURE(fixture, "invalidate: long-term keys have nothing else to offer")
{
    auto keys = aws::static_credentials({.access_key_id = "AKIDSTATIC", .secret_access_key = "s"});
    CHECK_FALSE(keys->invalidate(get(*keys)));

    courier_test::env_scope env;
    env.set("AWS_ACCESS_KEY_ID", "AKIDENV");
    env.set("AWS_SECRET_ACCESS_KEY", "s");
    auto chain = aws::default_credentials_chain(io.get_executor(), {.log = log.make(), .clock = clock});
    CHECK_FALSE(chain->invalidate(get(*chain)));
}
