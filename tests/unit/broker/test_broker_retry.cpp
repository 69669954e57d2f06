// The broker providers' retry plan, delivery counts and listener queue names, without I/O.
#include "broker/retry.hpp"

#include <courier/broker/listener_queue.hpp>
#include <courier/error.hpp>

#include <doctest/doctest.h>

using namespace std::chrono_literals;
namespace broker = courier::broker;

namespace {

struct order_placed
{
    static constexpr courier::event_options courier_event{.name = "order.placed", .durable = true};
};

struct hello_event // named after the type, not durable
{
};

} // namespace

TEST_CASE("broker retry: the bucket is the shortest not shorter than the delay, else the longest")
{
    broker::retry_policy p;
    p.buckets = {5s, 1s, 60s};
    CHECK(broker::retry_bucket(p, 1ms) == 1s);
    CHECK(broker::retry_bucket(p, 1s) == 1s);
    CHECK(broker::retry_bucket(p, 1001ms) == 5s);
    CHECK(broker::retry_bucket(p, 59s) == 60s);
    CHECK(broker::retry_bucket(p, 2h) == 60s);
}

TEST_CASE("broker retry: retry queues are named after their delay")
{
    CHECK(broker::retry_queue_name("orders", 250ms) == "orders.retry.250ms");
    CHECK(broker::retry_queue_name("orders", 5s) == "orders.retry.5s");
    CHECK(broker::retry_queue_name("orders", 15min) == "orders.retry.15m");
    CHECK(broker::retry_queue_name("orders", 2h) == "orders.retry.2h");
    CHECK(broker::retry_queue_name("orders", 90s) == "orders.retry.90s");
}

TEST_CASE("broker retry: no delay releases, max_attempts dead-letters")
{
    broker::retry_policy p;
    CHECK(broker::plan_retry(p, 1, 0ms) == broker::retry_step::release);
    CHECK(broker::plan_retry(p, 1000, 1s) == broker::retry_step::retry_queue); // 0: never dead-lettered
    p.max_attempts = 3;
    CHECK(broker::plan_retry(p, 2, 1s) == broker::retry_step::retry_queue);
    CHECK(broker::plan_retry(p, 3, 1s) == broker::retry_step::dead_letter);
    CHECK(broker::plan_retry(p, 3, 0ms) == broker::retry_step::dead_letter);
}

TEST_CASE("broker retry: delivery counts from the copy's header, the quorum count or the redelivered flag")
{
    CHECK(broker::receive_count(0, std::nullopt, false) == 1);
    CHECK(broker::receive_count(0, std::nullopt, true) == 2);  // at least
    CHECK(broker::receive_count(0, 4, true) == 5);             // quorum: exact
    CHECK(broker::receive_count(3, std::nullopt, false) == 4); // the fourth delivery, first of this copy
    CHECK(broker::receive_count(3, 1, true) == 5);
    CHECK(broker::parse_count("12") == 12u);
    CHECK_FALSE(broker::parse_count("").has_value());
    CHECK_FALSE(broker::parse_count("1x").has_value());
    CHECK_FALSE(broker::parse_count("-1").has_value());
}

TEST_CASE("broker retry: bad buckets are refused")
{
    broker::retry_policy p;
    CHECK_NOTHROW(broker::validate(p, "q"));
    p.buckets = {};
    CHECK_THROWS_AS(broker::validate(p, "q"), courier::error);
    p.buckets = {0ms};
    CHECK_THROWS_AS(broker::validate(p, "q"), courier::error);
    p.buckets = {std::chrono::milliseconds(1LL << 33)};
    CHECK_THROWS_AS(broker::validate(p, "q"), courier::error);
}

TEST_CASE("broker listener queues: eventing's names")
{
    CHECK(broker::queue_name({.event = "hello", .listener = "greeter"}) == "hello::greeter");
    CHECK(broker::queue_name(
              {.event = "hello", .listener = "greeter", .per_process = true, .server_name = "web-1:8080"}) ==
          "hello::greeter-web-1:8080");
    CHECK_THROWS_AS(broker::queue_name({.event = "hello", .listener = "greeter", .per_process = true}), courier::error);
    CHECK_THROWS_AS(broker::queue_name({.event = "", .listener = "greeter"}), courier::error);
}

TEST_CASE("broker listener queues: a typed event gives its name and durability")
{
    const auto billing = broker::shared_listener<order_placed>("billing");
    CHECK(billing.event == "order.placed");
    CHECK(billing.listener == "billing");
    CHECK_FALSE(billing.per_process);
    CHECK(billing.durable);
    CHECK(broker::queue_name(billing) == "order.placed::billing");

    const auto greeter = broker::per_process_listener<hello_event>("greeter", "web-2");
    CHECK(greeter.event == "hello_event");
    CHECK(greeter.per_process);
    CHECK_FALSE(greeter.durable);
    CHECK(broker::queue_name(greeter) == "hello_event::greeter-web-2");
    CHECK_THROWS_AS(broker::queue_name(broker::per_process_listener<hello_event>("greeter", "")), courier::error);
}
