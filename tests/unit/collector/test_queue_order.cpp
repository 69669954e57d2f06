// The order each queue type hands payloads to one consumer, and the default priority.
#include "collector_support.hpp"

using namespace courier_test;

namespace {

struct order_fixture : collector_fixture
{
    // Sends `values` (with their priorities, where given) before the queue starts, so the
    // one consumer finds them all waiting; returns the order it processed them in.
    std::vector<std::string> processed(ec::queue_type type,
                                       std::vector<std::pair<std::string, std::optional<int>>> values,
                                       int default_priority = 0)
    {
        std::vector<std::string> seen;
        std::vector<ec::collector<std::string>> collectors{echo("only", {}, {}, &seen)};
        ec::collector_queue<std::string> queue(
            io.get_executor(), collectors,
            options(
                {.min_consumers = 1, .max_consumers = 1, .queue_type = type, .default_priority = default_priority}));
        run([&]() -> asio::awaitable<void> {
            auto publisher = queue.get_publisher();
            std::vector<ec::collector_event> events;
            for (auto& [value, priority] : values)
            {
                ec::payload<std::string> p{.value = value, .priority = priority};
                events.push_back(co_await publisher.send(std::move(p)));
            }
            CHECK(queue.stats().queued == values.size());
            co_await queue.start();
            for (auto& e : events)
                co_await e.wait();
            co_await queue.stop();
        });
        return seen;
    }
};

using v = std::vector<std::string>;

} // namespace

TEST_CASE_FIXTURE(order_fixture, "collector queue order: fifo")
{
    CHECK(processed(ec::queue_type::fifo, {{"a", 9}, {"b", {}}, {"c", 1}}) == v{"a", "b", "c"});
}

TEST_CASE_FIXTURE(order_fixture, "collector queue order: lifo")
{
    CHECK(processed(ec::queue_type::lifo, {{"a", 9}, {"b", {}}, {"c", 1}}) == v{"c", "b", "a"});
}

TEST_CASE_FIXTURE(order_fixture, "collector queue order: priority, lowest first, ties in send order")
{
    CHECK(processed(ec::queue_type::priority, {{"p5", 5}, {"p1", 1}, {"p3", 3}, {"p1-again", 1}, {"p-2", -2}}) ==
          v{"p-2", "p1", "p1-again", "p3", "p5"});
}

TEST_CASE_FIXTURE(order_fixture, "collector queue order: a payload without priority gets the default priority")
{
    // As the seed's example: default 1000, so an explicit 0 goes first and unmarked ones last.
    CHECK(processed(ec::queue_type::priority, {{"plain-1", {}}, {"urgent", 0}, {"plain-2", {}}, {"late", 2000}},
                    1000) == v{"urgent", "plain-1", "plain-2", "late"});
    CHECK(processed(ec::queue_type::priority, {{"plain", {}}, {"low", 5}, {"high", -5}}) == v{"high", "plain", "low"});
}

TEST_CASE_FIXTURE(order_fixture, "collector queue order: payloads sent while running keep the order too")
{
    std::vector<std::string> seen;
    std::vector<ec::collector<std::string>> collectors{echo("only", {}, 1s, &seen)};
    ec::collector_queue<std::string> queue(io.get_executor(), collectors,
                                           options({.max_consumers = 1, .queue_type = ec::queue_type::lifo}));
    // Sent from the queue's own executor, so each send is taken without suspending: all four
    // wait before the consumer (woken by the first) looks.
    const auto produce = [&]() -> asio::awaitable<void> {
        auto publisher = queue.get_publisher();
        std::vector<ec::collector_event> events;
        for (const char* value : {"first", "second", "third", "fourth"})
            events.push_back(co_await publisher.send(broadcast(value)));
        CHECK(queue.stats().queued == 4);
        for (auto& e : events)
            co_await e.wait();
    };
    run([&]() -> asio::awaitable<void> {
        co_await queue.start();
        co_await asio::co_spawn(queue.get_executor(), produce(), asio::use_awaitable);
        co_await queue.stop();
    });
    CHECK(seen == v{"fourth", "third", "second", "first"});
}
