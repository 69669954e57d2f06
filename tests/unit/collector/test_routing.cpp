// Routing: broadcast, keys, topics (matching nothing included), custom routers.
#include "collector_support.hpp"

using namespace courier_test;

namespace {

struct routing_fixture : collector_fixture
{
    std::vector<ec::collector<std::string>> three()
    {
        return {echo("file", {"sensor-data"}), echo("average", {"sensor-data", "temperature"}),
                echo("alerts", {"alarms"})};
    }
};

ec::payload<std::string> to_keys(std::string v, std::vector<std::string> keys)
{
    return {.value = std::move(v), .delivery = ec::delivery::key, .keys = std::move(keys)};
}

ec::payload<std::string> to_topics(std::string v, std::vector<std::string> topics)
{
    return {.value = std::move(v), .delivery = ec::delivery::topic, .topics = std::move(topics)};
}

} // namespace

TEST_CASE_FIXTURE(routing_fixture, "collector routing: broadcast reaches every collector, in the queue's order")
{
    ec::collector_queue<std::string> queue(io.get_executor(), three(), options());
    const auto results = run([&]() -> asio::awaitable<ec::result_list> {
        co_return co_await queue.while_running(
            [](ec::event_publisher<std::string> publisher) { return send_and_wait(publisher, broadcast("21.5")); });
    });
    CHECK(keys_of(results) == std::vector<std::string>{"file", "average", "alerts"});
    CHECK(results.all_ok());
    CHECK(results[1].value<std::string>() == "average:21.5");
}

TEST_CASE_FIXTURE(routing_fixture, "collector routing: by key, unknown keys ignored, none matching is an empty success")
{
    ec::collector_queue<std::string> queue(io.get_executor(), three(), options());
    std::vector<ec::result_list> results;
    run([&]() -> asio::awaitable<void> {
        co_await queue.start();
        auto publisher = queue.get_publisher();
        {
            auto p = to_keys("a", {"alerts"});
            results.push_back(co_await send_and_wait(publisher, std::move(p)));
        }
        {
            auto p = to_keys("b", {"alerts", "nobody", "file"});
            results.push_back(co_await send_and_wait(publisher, std::move(p)));
        }
        {
            auto p = to_keys("c", {"nobody"});
            results.push_back(co_await send_and_wait(publisher, std::move(p)));
        }
        {
            auto p = to_keys("d", {});
            results.push_back(co_await send_and_wait(publisher, std::move(p)));
        }
        co_await queue.stop();
    });
    CHECK(keys_of(results[0]) == std::vector<std::string>{"alerts"});
    CHECK(results[0].first().value<std::string>() == "alerts:a");
    CHECK(keys_of(results[1]) == std::vector<std::string>{"file", "alerts"}); // the queue's order
    for (int i : {2, 3})
    {
        CHECK(results[i].empty());
        CHECK(results[i].all_ok());
        CHECK(results[i].first().is_ok());
    }
    CHECK(queue.stats().unrouted == 2);
    CHECK(queue.stats().completed == 4);
}

TEST_CASE_FIXTURE(routing_fixture,
                  "collector routing: by topic, to every listener of any topic; none matching is an empty success")
{
    ec::collector_queue<std::string> queue(io.get_executor(), three(), options());
    std::vector<ec::result_list> results;
    run([&]() -> asio::awaitable<void> {
        co_await queue.start();
        auto publisher = queue.get_publisher();
        {
            auto p = to_topics("a", {"sensor-data"});
            results.push_back(co_await send_and_wait(publisher, std::move(p)));
        }
        {
            auto p = to_topics("b", {"temperature", "alarms"});
            results.push_back(co_await send_and_wait(publisher, std::move(p)));
        }
        {
            auto p = to_topics("c", {"humidity"});
            results.push_back(co_await send_and_wait(publisher, std::move(p)));
        }
        co_await queue.stop();
    });
    CHECK(keys_of(results[0]) == std::vector<std::string>{"file", "average"});
    CHECK(keys_of(results[1]) == std::vector<std::string>{"average", "alerts"});
    CHECK(results[2].empty());
    CHECK(results[2].all_ok());
}

TEST_CASE_FIXTURE(routing_fixture, "collector routing: the collectors of one payload run concurrently")
{
    // Each takes 10 s; together they take 10 s, not 30 s.
    std::vector<ec::collector<std::string>> slow{echo("a", {}, 10s), echo("b", {}, 10s), echo("c", {}, 10s)};
    ec::collector_queue<std::string> queue(io.get_executor(), slow, options({.min_consumers = 1, .max_consumers = 1}));
    const auto start = clock->now();
    courier::clock::duration took{};
    run([&]() -> asio::awaitable<void> {
        co_await queue.start();
        const auto results = co_await send_and_wait(queue.get_publisher(), broadcast("x"));
        took = clock->now() - start;
        CHECK(keys_of(results) == std::vector<std::string>{"a", "b", "c"});
        co_await queue.stop();
    });
    CHECK(took == 10s);
}

namespace {

// Routes by the first letter of the value to the collector of that key; "!" fails.
class by_initial final : public ec::router<std::string>
{
public:
    asio::awaitable<ec::result_list> route(const ec::payload<std::string>& p,
                                           const ec::collector_set& collectors) override
    {
        ++calls;
        if (p.value == "!")
            throw std::runtime_error("router refuses");
        // Named vectors, not braced temporaries, in co_await expressions (GCC 12; see README).
        std::vector<std::size_t> which;
        if (p.value == "?")
            which = {7}; // out of range
        else if (p.value == "both")
            which = {collectors.size() - 1, 0};
        else if (auto i = collectors.find(p.value.substr(0, 1)))
            which = {*i};
        else
            co_return ec::result_list();
        co_return co_await collectors.deliver(std::move(which));
    }
    int calls = 0;
};

// Extends the default routing: delivers as usual, then adds a result of its own.
class audited final : public ec::simple_router<std::string>
{
public:
    asio::awaitable<ec::result_list> route(const ec::payload<std::string>& p,
                                           const ec::collector_set& collectors) override
    {
        auto results = co_await ec::simple_router<std::string>::route(p, collectors);
        std::vector<ec::result> all(results.begin(), results.end());
        auto audit = ec::ok(collectors.select(p.delivery, p.keys, p.topics).size());
        audit.set_key("audit");
        all.push_back(std::move(audit));
        co_return ec::result_list(std::move(all));
    }
};

} // namespace

TEST_CASE_FIXTURE(routing_fixture, "collector routing: a custom router replaces the default and returns the list")
{
    auto router = std::make_shared<by_initial>();
    std::vector<ec::collector<std::string>> collectors{echo("a"), echo("b")};
    ec::collector_queue<std::string> queue(io.get_executor(), collectors, options(), router);
    std::vector<ec::result_list> results;
    run([&]() -> asio::awaitable<void> {
        co_await queue.start();
        auto publisher = queue.get_publisher();
        for (const char* v : {"apple", "banana", "cherry", "!", "?", "both"})
            results.push_back(co_await send_and_wait(publisher, broadcast(v)));
        co_await queue.stop();
    });
    CHECK(router->calls == 6);
    CHECK(keys_of(results[0]) == std::vector<std::string>{"a"});
    CHECK(results[1].first().value<std::string>() == "b:banana");
    CHECK(results[2].empty());
    // A router that throws gives one Error without a key.
    REQUIRE(results[3].size() == 1);
    CHECK(results[3][0].key().empty());
    CHECK(results[3][0].error_message() == "router refuses");
    CHECK(contains(results[4][0].error_message(), "a router asked for collector 7; the queue has 2"));
    CHECK(keys_of(results[5]) == std::vector<std::string>{"b", "a"}); // the router's order
}

TEST_CASE_FIXTURE(routing_fixture, "collector routing: simple_router can be extended")
{
    ec::collector_queue<std::string> queue(io.get_executor(), three(), options(), std::make_shared<audited>());
    const auto results = run([&]() -> asio::awaitable<ec::result_list> {
        co_return co_await queue.while_running([](ec::event_publisher<std::string> publisher) {
            auto p = to_topics("x", {"alarms"});
            return send_and_wait(publisher, std::move(p));
        });
    });
    CHECK(keys_of(results) == std::vector<std::string>{"alerts", "audit"});
    CHECK(results[1].value<std::size_t>() == 1);
}

TEST_CASE_FIXTURE(routing_fixture, "collector queue: configuration errors are thrown at construction")
{
    const auto make = [&](std::vector<ec::collector<std::string>> c, ec::collector_queue_options o = {}) {
        ec::collector_queue<std::string> q(io.get_executor(), std::move(c), options(std::move(o)));
    };
    CHECK(contains(error_from([&] { make({}); }).what(), "collector queue: no collectors"));
    CHECK(contains(error_from([&] { make({echo("a"), echo("a")}); }).what(), "two collectors have the key 'a'"));
    CHECK(contains(error_from([&] { make({echo("")}); }).what(), "empty key"));
    CHECK(contains(error_from([&] { make({echo("a")}, {.min_consumers = 0}); }).what(), "min_consumers"));
    const auto e = error_from([&] { make({echo("a")}, {.name = "sensors", .min_consumers = 4, .max_consumers = 2}); });
    CHECK(e.code() == courier::errc::bad_configuration);
    CHECK(std::string(e.what()) == "collector queue: max_consumers (2) is below min_consumers (4) [queue=sensors]");
}
