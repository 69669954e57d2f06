// Queues given to a daemon by name, against fauxqs: the name is resolved with GetQueueUrl
// when the route opens, and a name that does not exist stops the routes as a permanent error
// naming the queue.
#include "sqs_fixture.hpp"

#include <courier/daemon.hpp>

using namespace courier_test;

TEST_CASE_FIXTURE(sqs_fixture, "daemon queues: a queue given by name is resolved and consumed")
{
    const auto url = create_queue("by-name");
    const auto name = courier::queue_name(url);
    courier::outgoing_message m{.body = "hello"};
    send(url, {m});

    std::vector<std::string> bodies;
    std::vector<courier::route> routes;
    routes.emplace_back("named", courier::make_sqs_provider_for(client, name, {.wait_time = std::chrono::seconds(1)}),
                        [&](const courier::message& msg) -> asio::awaitable<void> {
                            bodies.push_back(msg.body);
                            co_return;
                        });
    const auto kind = run_routes(std::move(routes), [&] { return bodies.size() == 1; });
    CHECK(kind == courier::stop_kind::graceful);
    CHECK(bodies == std::vector<std::string>{"hello"});
    CHECK(remaining(url) == 0);
}

TEST_CASE_FIXTURE(sqs_fixture, "daemon queues: a name that does not exist is a permanent error naming it")
{
    std::vector<courier::route> routes;
    routes.emplace_back("missing", courier::make_sqs_provider_for(client, "no-such-queue-courier"),
                        [](const courier::message&) -> asio::awaitable<void> { co_return; });
    // The routes stop by themselves; the condition only bounds the wait.
    const auto kind = run_routes(std::move(routes), [] { return false; });
    CHECK(kind == courier::stop_kind::failed);
    CHECK_MESSAGE(logs.contains("no-such-queue-courier"), logs.all());
    CHECK_MESSAGE(logs.contains("GetQueueUrl"), logs.all());
}
