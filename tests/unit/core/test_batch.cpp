// Batch handlers on the memory queue under simulated time: how batches are gathered (what is
// ready, or what arrives within the window), per-message failures through the error handler,
// a handler that throws, translation failures left out of the batch, plain handlers on the
// blocking pool, and a stop while a batch is being gathered.
#include "test_support.hpp"

#include <algorithm>
#include <numeric>

using namespace courier_test;

namespace {

using fixture = dispatcher_fixture;

struct row
{
    int n = 0;
};
BOOST_DESCRIBE_STRUCT(row, (), (n))

std::string text_of(std::exception_ptr e)
{
    return courier::error_text(e);
}

} // namespace

TEST_CASE_FIXTURE(fixture, "batch: the handler gets what is ready, up to max_messages; a marked message fails alone "
                           "and the others are acknowledged")
{
    auto q = queue();
    auto recorder = std::make_shared<recording_provider>(q);
    for (int i = 1; i <= 25; ++i)
        q->send(fmt::format(R"({{"n":{}}})", i));
    std::vector<std::size_t> sizes;
    std::vector<int> stored;
    std::vector<std::string> errors;
    std::vector<courier::route> routes;
    routes.emplace_back(
        "rows", recorder, courier::json<row>{},
        courier::batch(
            [&](std::span<courier::batch_item<row>> rows) -> asio::awaitable<void> {
                sizes.push_back(rows.size());
                co_await work(*clock, 1s); // one database statement for the batch
                for (auto& r : rows)
                {
                    if (r.value().n == 7 && r.raw().receive_count == 1)
                        r.fail("row 7 violates a constraint");
                    else
                        stored.push_back(r.value().n);
                }
            },
            {.max_messages = 10}),
        courier::route_options{.max_in_flight = 10, .on_error = [&](const courier::context& ctx, std::exception_ptr e) {
                                   errors.push_back(std::string(ctx.message_id()) + ": " + text_of(e));
                                   return courier::error_action::retry_after(5s);
                               }});
    courier::dispatcher d(io.get_executor(), std::move(routes), options());
    run(d, [&] { return q->empty(); });
    std::sort(stored.begin(), stored.end());
    std::vector<int> all(25);
    std::iota(all.begin(), all.end(), 1);
    CHECK(stored == all);
    CHECK(errors == std::vector<std::string>{"memory-7: row 7 violates a constraint"});
    CHECK(sizes.front() == 10);
    CHECK(std::all_of(sizes.begin(), sizes.end(), [](std::size_t n) { return n >= 1 && n <= 10; }));
    CHECK(recorder->acked.size() == 25);
    const auto stats = d.routes()[0].stats();
    CHECK(stats.handled == 25);
    CHECK(stats.failed == 1);
    CHECK(logs.contains("handling a batch of 10 message(s)"));
}

TEST_CASE_FIXTURE(fixture, "batch: with a window, what arrives soon after the first message joins its batch")
{
    auto q = queue({.receive_wait = 100ms});
    std::vector<std::vector<int>> batches;
    std::vector<courier::route> routes;
    routes.emplace_back("rows", q, courier::json<row>{},
                        courier::batch(
                            [&](std::span<courier::batch_item<row>> rows) -> asio::awaitable<void> {
                                // A coroutine: on the route's executor, as the check of `batches` below.
                                std::vector<int> ns;
                                for (auto& r : rows)
                                    ns.push_back(r.value().n);
                                batches.push_back(ns);
                                co_return;
                            },
                            {.max_messages = 4, .window = 1s}),
                        courier::route_options{.max_in_flight = 8, .receive_batch = 1});
    courier::dispatcher d(io.get_executor(), std::move(routes), options());
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            q->send(R"({"n":1})");
            co_await clock->sleep_for(300ms);
            q->send(R"({"n":2})");
            co_await clock->sleep_for(300ms);
            q->send(R"({"n":3})"); // within the window of 1: one batch of three
            co_await clock->sleep_for(3s);
            for (int n = 4; n <= 8; ++n) // five at once: a full batch of four, then one
                q->send(fmt::format(R"({{"n":{}}})", n));
        },
        asio::detached);
    run(d, [&] {
        std::size_t n = 0;
        for (const auto& b : batches)
            n += b.size();
        return n == 8 && q->empty();
    });
    REQUIRE(batches.size() == 3);
    CHECK(batches[0] == std::vector<int>{1, 2, 3});
    CHECK(batches[1] == std::vector<int>{4, 5, 6, 7});
    CHECK(batches[2] == std::vector<int>{8});
}

TEST_CASE_FIXTURE(fixture, "batch: a handler that throws fails every message of its batch; a translation failure "
                           "fails only its message, which never reaches the handler")
{
    auto q = queue();
    q->send(R"({"n":1})");
    q->send(R"({"n":"two"})");
    q->send(R"({"n":3})");
    int calls = 0;
    std::vector<std::string> errors;
    std::vector<courier::route> routes;
    routes.emplace_back("rows", q, courier::json<row>{},
                        courier::batch(
                            [&](std::span<courier::batch_item<row>> rows) -> asio::awaitable<void> {
                                ++calls;
                                CHECK(rows.size() == 2);
                                throw std::runtime_error("database down");
                                co_return;
                            },
                            {.max_messages = 3}),
                        courier::route_options{.on_error = [&](const courier::context& ctx, std::exception_ptr e) {
                            errors.push_back(std::string(ctx.message_id()) +
                                             (courier::is_translation_error(e) ? " translation" : "") + ": " +
                                             text_of(e));
                            return courier::error_action::ack();
                        }});
    courier::dispatcher d(io.get_executor(), std::move(routes), options());
    run(d, [&] { return q->empty(); });
    CHECK(calls == 1);
    std::sort(errors.begin(), errors.end());
    REQUIRE(errors.size() == 3);
    CHECK(errors[0] == "memory-1: database down");
    CHECK(contains(errors[1], "memory-2 translation: $.n: expected an integer"));
    CHECK(errors[2] == "memory-3: database down");
}

TEST_CASE_FIXTURE(fixture, "batch: marks with delete_message, retry_message and leave_message settle as thrown by a "
                           "single handler, without the error handler")
{
    auto q = queue({.visibility_timeout = 1min});
    for (int i = 1; i <= 4; ++i)
        q->send(fmt::format(R"({{"n":{}}})", i));
    std::vector<int> seen;
    bool error_handler_called = false;
    std::vector<courier::route> routes;
    routes.emplace_back("rows", q, courier::json<row>{}, courier::batch([&](std::span<courier::batch_item<row>> rows) {
                            for (auto& r : rows)
                            {
                                seen.push_back(r.value().n * 10 + static_cast<int>(r.raw().receive_count));
                                if (r.raw().receive_count > 1)
                                    continue;
                                if (r.value().n == 2)
                                    r.fail(std::make_exception_ptr(courier::delete_message("obsolete")));
                                else if (r.value().n == 3)
                                    r.fail(std::make_exception_ptr(courier::retry_message(10s, "busy")));
                                else if (r.value().n == 4)
                                    r.fail(std::make_exception_ptr(courier::leave_message("not now")));
                            }
                        }),
                        courier::route_options{.on_error = [&](const courier::context&, std::exception_ptr) {
                            error_handler_called = true;
                            return courier::error_action::ack();
                        }});
    courier::dispatcher d(io.get_executor(), std::move(routes), options());
    const auto start = clock->now();
    run(d, [&] { return q->empty(); });
    CHECK_FALSE(error_handler_called);
    std::sort(seen.begin(), seen.end());
    CHECK(seen == std::vector<int>{11, 21, 31, 32, 41, 42}); // 3 after its retry, 4 after its visibility timeout
    CHECK(clock->now() - start >= 1min);
    CHECK(logs.contains("deleted by the handler: obsolete"));
    CHECK(logs.contains("retry requested by the handler: busy"));
    CHECK(logs.contains("left by the handler: not now"));
}

TEST_CASE_FIXTURE(fixture, "batch: a stop while a batch is gathered gives its messages back unstarted")
{
    auto q = queue({.receive_wait = 100ms});
    q->send(R"({"n":1})");
    int calls = 0;
    std::vector<courier::route> routes;
    routes.emplace_back(
        "rows", q, courier::json<row>{},
        courier::batch([&](std::span<courier::batch_item<row>>) { ++calls; }, {.max_messages = 5, .window = 1h}),
        courier::route_options{.max_in_flight = 5});
    courier::dispatcher d(io.get_executor(), std::move(routes), options());
    const auto start = clock->now();
    CHECK(run(d, [&] { return clock->now() - start >= 2s; }) == courier::stop_kind::graceful);
    CHECK(clock->now() - start < 1min); // did not wait out the window
    CHECK(calls == 0);
    CHECK(q->counts().visible == 1); // released, not lost
    CHECK(logs.contains("not started: the route stops"));
}

TEST_CASE("batch: max_messages is capped by the route's room, and zero is refused")
{
    auto q = std::make_shared<courier::memory_provider>();
    const courier::route r(
        "rows", q, courier::batch([](std::span<courier::batch_item<courier::message>>) {}, {.max_messages = 50}),
        courier::route_options{.max_in_flight = 20});
    CHECK(r.batched());
    CHECK(r.batching().max_messages == 20);
    CHECK_THROWS_AS(
        courier::route("rows", q,
                       courier::batch([](std::span<courier::batch_item<courier::message>>) {}, {.max_messages = 0})),
        courier::error);
}
