// Poison messages on the in-memory queue (same dead-letter semantics as an SQS redrive
// policy) under simulated time: what a translator or an error handler throws, whatever its
// type, reaches the error handler or the log, never escapes the route, and the good
// messages around the poison keep flowing. The fauxqs versions, with the exact translation
// errors, are in tests/integration/test_poison.cpp.
#include "test_support.hpp"

#include <set>
#include <stdexcept>

using namespace courier_test;
using courier::memory_provider;

namespace {

struct item
{
    int n = 0;
};
BOOST_DESCRIBE_STRUCT(item, (), (n))

struct fixture : simulated_fixture
{
    courier::stop_kind run(std::vector<courier::route> routes, std::function<bool()> until)
    {
        courier::dispatcher d(io.get_executor(), std::move(routes),
                              {.clock = clock, .log = logs.make(courier::log_level::debug)});
        return run_simulated(io, *clock, [&]() -> asio::awaitable<courier::stop_kind> {
            asio::co_spawn(
                io,
                [&]() -> asio::awaitable<void> {
                    while (!until())
                        co_await clock->sleep_for(10ms);
                    d.stop();
                },
                asio::detached);
            co_return co_await d.run();
        });
    }
};

} // namespace

TEST_CASE_FIXTURE(fixture, "poison (memory): a translator throwing a non-std exception is a translation failure, "
                           "and the poison is dead-lettered")
{
    auto dlq = queue({.name = "dead"});
    auto q = queue({.name = "orders", .visibility_timeout = 1s, .max_receive_count = 2, .dead_letter_queue = dlq});
    for (const char* body : {R"({"n":1})", "throw-int", R"({"n":2})", R"({"n":"three"})", R"({"n":4})"})
        q->send(courier::outgoing_message{.body = body});
    std::set<int> handled;
    std::vector<std::string> errors;
    std::vector<courier::route> routes;
    routes.emplace_back(
        "orders", q,
        [](const courier::message& m) -> item {
            if (m.body == "throw-int")
                throw 42; // not a std::exception: a third-party decoder gone wrong
            return courier::json_decode<item>(m.body);
        },
        [&](item i) -> asio::awaitable<void> {
            handled.insert(i.n);
            co_return;
        },
        courier::route_options{.on_error = [&](const courier::context& ctx, std::exception_ptr e) {
            CHECK(courier::is_translation_error(e));
            std::string text = "not a std::exception";
            try
            {
                std::rethrow_exception(e);
            }
            catch (const std::exception& x)
            {
                text = x.what();
            }
            catch (...)
            {
            }
            errors.push_back(ctx.raw().body + " -> " + text);
            return courier::error_action::retry_after(0ms);
        }});
    run(std::move(routes), [&] { return dlq->counts().visible == 2 && handled.size() == 3; });
    CHECK(handled == std::set<int>{1, 2, 4});
    // Two deliveries each (max_receive_count 2), then the dead-letter queue.
    // Wrapped into a translation error that says what happened (see src/outcome.cpp).
    CHECK(std::count_if(errors.begin(), errors.end(), [](const std::string& e) {
              return contains(e, "throw-int -> translator threw a non-standard exception");
          }) == 2);
    CHECK(std::count_if(errors.begin(), errors.end(), [](const std::string& e) {
              return contains(e, R"({"n":"three"} -> $.n: expected an integer, got a string)");
          }) == 2);
    CHECK(errors.size() == 4);
    CHECK(q->empty());
    CHECK(q->counts().dead_lettered == 2);
}

TEST_CASE_FIXTURE(fixture, "poison (memory): an error handler that throws does not take the route down")
{
    auto dlq = queue({.name = "dead"});
    auto q = queue({.name = "orders", .visibility_timeout = 1s, .max_receive_count = 2, .dead_letter_queue = dlq});
    for (const char* body : {R"({"n":1})", "not json", R"({"n":2})"})
        q->send(courier::outgoing_message{.body = body});
    std::set<int> handled;
    int error_calls = 0;
    std::vector<courier::route> routes;
    routes.emplace_back(
        "orders", q, courier::json<item>{},
        [&](item i) -> asio::awaitable<void> {
            handled.insert(i.n);
            co_return;
        },
        courier::route_options{.on_error = [&](const courier::context&, std::exception_ptr) {
            ++error_calls;
            throw std::runtime_error("the error handler itself failed");
            return courier::error_action::ack();
        }});
    // The message is left (never acked on a failed decision) and comes back after its
    // visibility timeout until the dead-letter queue takes it.
    run(std::move(routes), [&] { return dlq->counts().visible == 1 && handled.size() == 2; });
    CHECK(handled == std::set<int>{1, 2});
    CHECK(error_calls == 2);
    CHECK(q->empty());
    CHECK(logs.contains("the error handler itself failed"));
}
