// Collector events: nothing until every collector is done, then the results; waiting
// from anywhere; processor exceptions becoming Errors.
#include "collector_support.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>

using namespace courier_test;

TEST_CASE_FIXTURE(collector_fixture, "collector event: get_result gives nothing until every collector is done")
{
    std::vector<ec::collector<std::string>> collectors{echo("fast", {}, 1s), echo("slow", {}, 5s)};
    ec::collector_queue<std::string> queue(io.get_executor(), collectors, options());
    run([&]() -> asio::awaitable<void> {
        co_await queue.start();
        auto event = co_await queue.get_publisher().send(broadcast("x"));
        CHECK_FALSE(event.done());
        CHECK_FALSE(event.get_result().has_value());
        co_await clock->sleep_for(2s); // "fast" is done, "slow" is not
        CHECK_FALSE(event.get_result().has_value());
        co_await clock->sleep_for(4s);
        REQUIRE(event.done());
        const auto results = *event.get_result();
        CHECK(keys_of(results) == std::vector<std::string>{"fast", "slow"});
        // wait() on a done event returns at once, with the same results.
        const auto again = co_await event.wait();
        CHECK(&again[0] == &results[0]);
        co_await queue.stop();
    });
}

TEST_CASE_FIXTURE(collector_fixture, "collector event: several waiters, and a cancelled wait leaves the payload alone")
{
    std::vector<ec::collector<std::string>> collectors{echo("slow", {}, 5s)};
    ec::collector_queue<std::string> queue(io.get_executor(), collectors, options());
    int woken = 0;
    run([&]() -> asio::awaitable<void> {
        co_await queue.start();
        auto event = co_await queue.get_publisher().send(broadcast("x"));
        for (int i = 0; i < 3; ++i)
            asio::co_spawn(
                io,
                [event, &woken]() -> asio::awaitable<void> {
                    CHECK((co_await event.wait()).first().value<std::string>() == "slow:x");
                    ++woken;
                },
                asio::detached);
        asio::cancellation_signal cancel;
        bool aborted = false;
        asio::co_spawn(io, event.wait(),
                       asio::bind_cancellation_slot(cancel.slot(), [&](std::exception_ptr e, ec::result_list) {
                           aborted = courier_test::contains(courier::error_text(e), "Operation canceled");
                       }));
        co_await clock->sleep_for(1s);
        cancel.emit(asio::cancellation_type::terminal);
        co_await clock->sleep_for(1s);
        CHECK(aborted);
        CHECK_FALSE(event.done());
        co_await event.wait();
        co_await clock->sleep_for(1ms); // let the other waiters run
        CHECK(woken == 3);
        co_await queue.stop();
    });
    CHECK(queue.stats().completed == 1);
}

TEST_CASE_FIXTURE(collector_fixture, "collector event: a processor exception becomes an Error, never a crash")
{
    struct thrower
    {
        // Throws before any coroutine exists.
        asio::awaitable<ec::result> operator()(const ec::payload<std::string>& p) const
        {
            if (p.value == "sync")
                throw std::invalid_argument("rejected before starting");
            return body(p.value);
        }
        static asio::awaitable<ec::result> body(std::string v)
        {
            if (v == "async")
                throw std::runtime_error("failed while running");
            if (v == "error")
                co_return ec::error(std::domain_error("out of range"));
            co_return ec::ok(v);
        }
    };
    std::vector<ec::collector<std::string>> collectors{ec::collector<std::string>("picky", thrower{}), echo("calm")};
    ec::collector_queue<std::string> queue(io.get_executor(), collectors, options());
    std::vector<ec::result_list> results;
    run([&]() -> asio::awaitable<void> {
        co_await queue.start();
        for (const char* v : {"sync", "async", "error", "fine"})
            results.push_back(co_await send_and_wait(queue.get_publisher(), broadcast(v)));
        co_await queue.stop();
    });
    CHECK(results[0].find("picky")->error_message() == "rejected before starting");
    CHECK(results[1].find("picky")->error_message() == "failed while running");
    CHECK(results[2].find("picky")->error_message() == "out of range");
    CHECK_THROWS_AS(results[2].find("picky")->rethrow_if_error(), std::domain_error);
    for (int i = 0; i < 3; ++i)
    {
        CHECK_FALSE(results[i].all_ok());
        CHECK(results[i].find("calm")->is_ok()); // the other collector is unaffected
    }
    CHECK(results[3].all_ok());
    CHECK(queue.stats().errors == 3);
}

TEST_CASE_FIXTURE(collector_fixture, "collector event: one collector on its own, the result of first()")
{
    std::vector<ec::collector<std::string>> collectors{echo("only")};
    ec::collector_queue<std::string> queue(io.get_executor(), collectors, options());
    const auto results = run([&]() -> asio::awaitable<ec::result_list> {
        co_return co_await queue.while_running(
            [](ec::event_publisher<std::string> publisher) { return send_and_wait(publisher, broadcast("x")); });
    });
    const auto& r = results.first();
    CHECK(r.key() == "only");
    CHECK(r.value<std::string>() == "only:x");
}
