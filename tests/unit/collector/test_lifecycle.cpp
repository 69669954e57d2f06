// Lifecycles: setups in order before any consumer, teardowns in reverse at the stop,
// even after failures; a failed setup stops the start with a clear error.
#include "collector_support.hpp"

using namespace courier_test;

namespace {

struct repository
{
    std::string name;
    std::vector<std::string>* journal;
    int writes = 0;
};

struct lifecycle_fixture : collector_fixture
{
    std::vector<std::string> journal;

    // A collector whose setup stores a repository in its context and whose teardown
    // closes it; both are journaled. `fail_setup`/`fail_teardown`/`fail_process` make
    // that step throw.
    ec::collector<std::string> with_repository(std::string key, bool fail_setup = false, bool fail_teardown = false,
                                               bool fail_process = false)
    {
        auto* j = &journal;
        auto c = clock;
        ec::lifecycle life{.setup = [key, j, c, fail_setup](ec::context& ctx) -> asio::awaitable<void> {
                               co_await c->sleep_for(1s); // a setup that waits (opening a connection)
                               if (fail_setup)
                                   throw std::runtime_error("cannot open " + key + ".db");
                               ctx.emplace<repository>(repository{key, j});
                               j->push_back("setup " + key);
                           },
                           .teardown = [key, j, c, fail_teardown](ec::context& ctx) -> asio::awaitable<void> {
                               co_await c->sleep_for(1s); // a teardown that waits (flushing, closing)
                               j->push_back(
                                   fmt::format("teardown {} after {} write(s)", key, ctx.get<repository>().writes));
                               if (fail_teardown)
                                   throw std::runtime_error("cannot flush " + key + ".db");
                           }};
        return ec::collector<std::string>(
            key,
            [fail_process](const ec::payload<std::string>& p, ec::context& ctx) -> asio::awaitable<ec::result> {
                auto& repo = ctx.get<repository>();
                repo.journal->push_back("process " + repo.name + " " + p.value);
                ++repo.writes;
                if (fail_process)
                    throw std::runtime_error("constraint violated");
                co_return ec::ok(repo.writes);
            },
            {.lifecycle = std::move(life)});
    }
};

using v = std::vector<std::string>;

} // namespace

TEST_CASE_FIXTURE(lifecycle_fixture,
                  "collector lifecycle: setups in order before any payload, teardowns in reverse after the last")
{
    std::vector<ec::collector<std::string>> collectors{with_repository("a"), with_repository("b", false, false, true),
                                                       with_repository("c")};
    ec::collector_queue<std::string> queue(io.get_executor(), collectors, options());
    run([&]() -> asio::awaitable<void> {
        // Sent before the start: it waits for every setup.
        auto early = co_await queue.get_publisher().send(broadcast("early"));
        co_await queue.while_running([&](ec::event_publisher<std::string> publisher) -> asio::awaitable<void> {
            const auto results = co_await send_and_wait(publisher, broadcast("x"));
            CHECK_FALSE(results.all_ok()); // b failed: its teardown still runs
            CHECK((co_await early.wait()).size() == 3);
        });
    });
    CHECK(journal == v{"setup a", "setup b", "setup c", "process a early", "process b early", "process c early",
                       "process a x", "process b x", "process c x", "teardown c after 2 write(s)",
                       "teardown b after 2 write(s)", "teardown a after 2 write(s)"});
    CHECK(collectors[0].context().get<repository>().writes == 2); // the collector's own context
}

TEST_CASE_FIXTURE(lifecycle_fixture, "collector lifecycle: a failed setup stops the start with a clear error")
{
    std::vector<ec::collector<std::string>> collectors{with_repository("a"), with_repository("b", true),
                                                       with_repository("c")};
    ec::collector_queue<std::string> queue(io.get_executor(), collectors, options({.name = "sensors"}));
    std::optional<ec::collector_event> early;
    const auto err = error_from([&] {
        run([&]() -> asio::awaitable<void> {
            early = co_await queue.get_publisher().send(broadcast("early"));
            co_await queue.start();
        });
    });
    CHECK(err.code() == ec::errc::setup_failed);
    CHECK(std::string(err.what()) == "collector 'b': lifecycle setup failed: cannot open b.db [queue=sensors]");
    // a was set up, so it is torn down; b and c never were.
    CHECK(journal == v{"setup a", "teardown a after 0 write(s)"});
    // What was sent gets an Error; nothing more is taken.
    REQUIRE(early->done());
    const auto results = *early->get_result();
    REQUIRE(results.size() == 1);
    CHECK(contains(results[0].error_message(), "lifecycle setup failed: cannot open b.db"));
    CHECK(logs.contains(
        "ERROR [sensors] collector 'b': lifecycle setup failed: cannot open b.db; the queue does not start"));
    const auto refused = error_from(
        [&] { run([&]() -> asio::awaitable<void> { co_await queue.get_publisher().send(broadcast("late")); }); });
    CHECK(refused.code() == ec::errc::queue_stopped);
    run([&]() -> asio::awaitable<void> { co_await queue.stop(); }); // nothing left to do
    CHECK(journal.size() == 2);
}

TEST_CASE_FIXTURE(lifecycle_fixture,
                  "collector lifecycle: a stop asked for during a failing start waits for its cleanup")
{
    std::vector<ec::collector<std::string>> collectors{with_repository("a"), with_repository("b", true)};
    ec::collector_queue<std::string> queue(io.get_executor(), collectors, options());
    std::exception_ptr start_error;
    bool stopped = false;
    run([&]() -> asio::awaitable<void> {
        asio::co_spawn(io, queue.start(), [&](std::exception_ptr e) { start_error = e; });
        co_await clock->sleep_for(1500ms); // "a" is set up, "b" is setting up
        co_await queue.stop_now();
        CHECK(journal.size() == 2); // returned only after the teardown of "a" finished
        stopped = true;
    });
    CHECK(stopped);
    REQUIRE(start_error != nullptr);
    CHECK(contains(courier::error_text(start_error), "collector 'b': lifecycle setup failed"));
    CHECK(journal == v{"setup a", "teardown a after 0 write(s)"}); // torn down once
}

TEST_CASE_FIXTURE(lifecycle_fixture,
                  "collector lifecycle: a failed teardown is reported after every other teardown ran")
{
    std::vector<ec::collector<std::string>> collectors{with_repository("a"), with_repository("b", false, true),
                                                       with_repository("c")};
    ec::collector_queue<std::string> queue(io.get_executor(), collectors, options({.name = "sensors"}));
    const auto err = error_from([&] {
        run([&]() -> asio::awaitable<void> {
            co_await queue.start();
            co_await queue.stop();
        });
    });
    CHECK(err.code() == ec::errc::teardown_failed);
    CHECK(std::string(err.what()) == "teardown of collector 'b' failed: cannot flush b.db [queue=sensors]");
    CHECK(journal.back() == "teardown a after 0 write(s)");
    CHECK(logs.contains("ERROR [sensors] teardown of collector 'b' failed: cannot flush b.db"));
    // A second stop reports the same.
    CHECK(error_from([&] { run([&]() -> asio::awaitable<void> { co_await queue.stop(); }); }).code() ==
          ec::errc::teardown_failed);
}

TEST_CASE_FIXTURE(lifecycle_fixture, "collector lifecycle: while_running stops and tears down when its body throws")
{
    std::vector<ec::collector<std::string>> collectors{with_repository("a")};
    ec::collector_queue<std::string> queue(io.get_executor(), collectors, options());
    CHECK_THROWS_WITH(run([&]() -> asio::awaitable<void> {
                          co_await queue.while_running(
                              [&](ec::event_publisher<std::string> publisher) -> asio::awaitable<void> {
                                  co_await publisher.send(broadcast("x")); // not awaited: the stop still drains it
                                  throw std::runtime_error("body failed");
                              });
                      }),
                      "body failed");
    CHECK(journal == v{"setup a", "process a x", "teardown a after 1 write(s)"});
}

TEST_CASE_FIXTURE(lifecycle_fixture, "collector lifecycle: starting twice is an error")
{
    std::vector<ec::collector<std::string>> collectors{echo("a")};
    ec::collector_queue<std::string> queue(io.get_executor(), collectors, options());
    const auto err = error_from([&] {
        run([&]() -> asio::awaitable<void> {
            co_await queue.start();
            co_await queue.start();
        });
    });
    CHECK(err.code() == courier::errc::bad_configuration);
    CHECK(contains(err.what(), "started twice"));
    run([&]() -> asio::awaitable<void> { co_await queue.stop(); });
}
