// The SQS provider against a real SQS-compatible server (fauxqs): batched acks,
// heartbeats, retry backoff, dead-letter redrive, FIFO groups, attributes and graceful
// stop. Real time: each case takes a few seconds at most. The wall-clock bounds below each
// say why they hold on a machine 20 times slower than an idle one: what they measure is real
// time courier or the server waits (a visibility timeout, a backoff), not work, and each is
// far from the value that would mean the behaviour is wrong.
#include "sqs_fixture.hpp"

#include <mutex>
#include <set>

using namespace courier_test;
using namespace std::chrono_literals;

namespace {

struct ticket
{
    int seq = 0;
    std::string pad;
};
BOOST_DESCRIBE_STRUCT(ticket, (), (seq, pad))

std::vector<courier::outgoing_message> numbered(int n, const std::string& group = {})
{
    std::vector<courier::outgoing_message> out;
    for (int i = 0; i < n; ++i)
        out.push_back({.body = fmt::format(R"({{"seq":{},"pad":"xx"}})", i), .group_id = group});
    return out;
}

} // namespace

TEST_CASE_FIXTURE(sqs_fixture, "sqs: every message is handled once and acked in batches")
{
    const auto url = create_queue("consume");
    send(url, numbered(100));
    std::mutex mutex;
    std::multiset<int> seen;
    std::vector<courier::route> routes;
    routes.emplace_back(
        "tickets", courier::make_sqs_provider(client, queue_options(url)), courier::json<ticket>{},
        [&](ticket t) -> asio::awaitable<void> {
            std::lock_guard lock(mutex);
            seen.insert(t.seq);
            co_return;
        },
        courier::route_options{.max_in_flight = 20});
    const auto before = client->requests_sent();
    run_routes(std::move(routes), [&] {
        std::lock_guard lock(mutex);
        return std::set<int>(seen.begin(), seen.end()).size() == 100;
    });
    const auto requests = client->requests_sent() - before;
    CHECK(seen.size() == 100);
    CHECK(std::set<int>(seen.begin(), seen.end()).size() == 100);
    CHECK(last_routes_stats.at(0).acked == 100);
    // One DeleteMessage per message plus receives would be > 110 requests; batches of up
    // to 10 keep it far lower.
    CHECK(requests < 60);
    CHECK(remaining(url) == 0);
}

TEST_CASE_FIXTURE(sqs_fixture, "sqs: a handler slower than the visibility timeout is not redelivered (heartbeat)")
{
    const auto url = create_queue("heartbeat");
    send(url, numbered(1));
    std::atomic<int> calls{0};
    std::atomic<bool> done{false};
    auto options = queue_options(url);
    // Extended every third of it (about 670 ms), each time by 2 s: an extension may take
    // 1.3 s before the message shows again, where it takes a few ms on an idle machine.
    options.visibility_timeout = 2s;
    std::vector<courier::route> routes;
    routes.emplace_back("slow", courier::make_sqs_provider(client, options),
                        [&](const courier::message&) -> asio::awaitable<void> {
                            ++calls;
                            co_await sleep_real(5s); // two and a half visibility timeouts
                            done = true;
                        });
    run_routes(std::move(routes), [&] { return done.load(); });
    CHECK(calls == 1);
    CHECK(last_routes_stats.at(0).heartbeats >= 3);
    CHECK(last_routes_stats.at(0).acked == 1);
    CHECK(remaining(url) == 0);
}

TEST_CASE_FIXTURE(sqs_fixture, "sqs: a failed message comes back after its backoff with a higher receive count")
{
    const auto url = create_queue("backoff");
    send(url, numbered(1));
    std::vector<std::pair<std::chrono::steady_clock::time_point, std::uint32_t>> deliveries;
    std::vector<courier::route> routes;
    routes.emplace_back(
        "flaky", courier::make_sqs_provider(client, queue_options(url)),
        [&](const courier::message& m) -> asio::awaitable<void> {
            deliveries.emplace_back(std::chrono::steady_clock::now(), m.receive_count);
            if (m.receive_count == 1)
                throw std::runtime_error("downstream unavailable");
            co_return;
        },
        courier::route_options{.on_error = courier::retry_with_backoff({.base = 2s, .max = 10s, .jitter = false})});
    run_routes(std::move(routes), [&] { return deliveries.size() == 2; });
    REQUIRE(deliveries.size() == 2);
    CHECK(deliveries[0].second == 1);
    CHECK(deliveries[1].second == 2);
    const auto gap = deliveries[1].first - deliveries[0].first;
    CHECK(gap >= 2s);
    // The 2 s backoff plus at most a 1 s long poll, not the 30 s visibility timeout.
    CHECK(gap < 20s);
    CHECK(last_routes_stats.at(0).retried == 1);
    CHECK(remaining(url) == 0);
}

TEST_CASE_FIXTURE(sqs_fixture, "sqs: after maxReceiveCount deliveries the message is redriven to the dead-letter queue")
{
    const auto dlq = create_queue("dead");
    const auto dlq_arn = attributes(dlq).at("QueueArn");
    const auto url = create_queue(
        "poison", {{"RedrivePolicy", fmt::format(R"({{"deadLetterTargetArn":"{}","maxReceiveCount":"2"}})", dlq_arn)}});
    send(url, {{.body = "not json"}});
    std::atomic<int> calls{0};
    std::vector<courier::route> routes;
    routes.emplace_back(
        "poison", courier::make_sqs_provider(client, queue_options(url)), courier::json<ticket>{},
        [&](ticket) -> asio::awaitable<void> { co_return; },
        courier::route_options{.on_error = [&](const courier::context&, std::exception_ptr) {
            ++calls;
            return courier::error_action::retry_after(0ms);
        }});
    // Watch the dead-letter queue from a coroutine: the fixture's blocking helpers must not
    // run inside the io_context they drive.
    std::atomic<bool> dead_lettered{false};
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            while (!dead_lettered)
            {
                auto a = co_await client->get_queue_attributes(dlq);
                dead_lettered = a["ApproximateNumberOfMessages"] == "1";
                co_await sleep_real(100ms);
            }
        },
        asio::detached);
    run_routes(std::move(routes), [&] { return dead_lettered.load(); });
    CHECK(calls == 2);
    CHECK(remaining(url) == 0);
    CHECK(remaining(dlq) == 1);
}

TEST_CASE_FIXTURE(sqs_fixture, "sqs: FIFO groups are handled in order, one at a time, groups in parallel")
{
    const auto url = create_queue("ordered", {{"FifoQueue", "true"}, {"ContentBasedDeduplication", "true"}});
    std::vector<courier::outgoing_message> msgs;
    for (int i = 0; i < 6; ++i)
        for (const char* g : {"a", "b", "c"})
            msgs.push_back({.body = fmt::format(R"({{"seq":{},"pad":"{}"}})", i, g), .group_id = g});
    send(url, msgs);
    std::map<std::string, std::vector<int>> order;
    std::map<std::string, int> running;
    int concurrent = 0, peak = 0, total = 0;
    std::vector<courier::route> routes;
    routes.emplace_back(
        "fifo", courier::make_sqs_provider(client, queue_options(url)), courier::json<ticket>{},
        [&](ticket t, courier::context& ctx) -> asio::awaitable<void> {
            const std::string group = ctx.raw().group_id;
            CHECK(++running[group] == 1);
            peak = std::max(peak, ++concurrent);
            co_await sleep_real(30ms);
            order[group].push_back(t.seq);
            --running[group];
            --concurrent;
            ++total;
        },
        courier::route_options{.max_in_flight = 10});
    run_routes(std::move(routes), [&] { return total == 18; });
    for (const char* g : {"a", "b", "c"})
        CHECK(order[g] == std::vector<int>{0, 1, 2, 3, 4, 5});
    CHECK(peak > 1);
    CHECK(remaining(url) == 0);
}

TEST_CASE_FIXTURE(sqs_fixture, "sqs: message attributes and system attributes round-trip")
{
    const auto url = create_queue("attributes");
    courier::attribute_map sent{{"kind", {"String", "invoice"}},
                                {"amount", {"Number", "12.50"}},
                                {"blob", {"Binary", std::string("\x00\x01\xfe\xff", 4)}},
                                {"note", {"String.custom", "ünïcödé"}}};
    send(url, {{.body = "with attributes", .attributes = sent}});
    std::optional<courier::message> got;
    std::vector<courier::route> routes;
    routes.emplace_back("attrs", courier::make_sqs_provider(client, queue_options(url)),
                        [&](const courier::message& m) -> asio::awaitable<void> {
                            got = m;
                            co_return;
                        });
    run_routes(std::move(routes), [&] { return got.has_value(); });
    REQUIRE(got);
    CHECK(got->body == "with attributes");
    CHECK(got->attributes == sent);
    CHECK(got->receive_count == 1);
    CHECK(got->system_attributes.count("SentTimestamp") == 1);
    CHECK(got->sent_at.time_since_epoch().count() > 0);
}

TEST_CASE_FIXTURE(sqs_fixture,
                  "sqs: graceful stop finishes in-flight handlers and loses none; a restart takes the rest")
{
    const auto url = create_queue("stop");
    send(url, numbered(20));
    std::mutex mutex;
    std::multiset<int> handled;
    std::atomic<int> started{0};
    auto handler = [&](ticket t) -> asio::awaitable<void> {
        ++started;
        co_await sleep_real(300ms);
        std::lock_guard lock(mutex);
        handled.insert(t.seq);
    };
    std::vector<courier::route> routes;
    routes.emplace_back("stop", courier::make_sqs_provider(client, queue_options(url)), courier::json<ticket>{},
                        handler, courier::route_options{.max_in_flight = 4, .receive_batch = 4});
    const auto kind = run_routes(std::move(routes), [&] { return started == 4; });
    CHECK(kind == courier::stop_kind::graceful);
    CHECK(handled.size() == 4);                // the four in flight finished...
    CHECK(last_routes_stats.at(0).acked == 4); // ...and were acked before run() returned
    CHECK(remaining(url) == 16);

    std::vector<courier::route> again;
    again.emplace_back("stop", courier::make_sqs_provider(client, queue_options(url)), courier::json<ticket>{}, handler,
                       courier::route_options{.max_in_flight = 8});
    run_routes(std::move(again), [&] {
        std::lock_guard lock(mutex);
        return handled.size() >= 20;
    });
    CHECK(handled.size() == 20);
    CHECK(std::set<int>(handled.begin(), handled.end()).size() == 20); // no duplicates
    CHECK(remaining(url) == 0);
}

TEST_CASE_FIXTURE(sqs_fixture,
                  "sqs: a stop during a long poll lets the poll finish; what it brings is released at once")
{
    const auto url = create_queue("poll-at-stop");
    std::atomic<int> handled{0};
    std::vector<courier::route> routes;
    auto options = queue_options(url);
    options.wait_time = 20s; // the longest SQS allows: the poll ends long before, if it ends when the message comes
    routes.emplace_back("poll", courier::make_sqs_provider(client, options),
                        [&](const courier::message&) -> asio::awaitable<void> {
                            ++handled;
                            co_return;
                        });
    courier::dispatcher d(io.get_executor(), std::move(routes), {.log = logs.make(courier::log_level::debug)});
    const auto begin = std::chrono::steady_clock::now();
    const auto before = client->requests_sent();
    const auto kind = run([&]() -> asio::awaitable<courier::stop_kind> {
        asio::co_spawn(
            co_await asio::this_coro::executor,
            [&]() -> asio::awaitable<void> {
                // The route is in its long poll on the empty queue once it sent a request (the
                // client counts it before sending; a message arriving first is handed to the
                // poll just the same).
                while (client->requests_sent() == before)
                    co_await sleep_real(10ms);
                co_await sleep_real(200ms);
                d.stop();
                co_await sleep_real(300ms);
                // Arrives while the poll is still open: the server hands it to that poll.
                courier::outgoing_message m{.body = "late"};
                co_await client->send(url, std::move(m));
            },
            asio::detached);
        co_return co_await d.run();
    });
    CHECK(kind == courier::stop_kind::graceful);
    CHECK(handled == 0); // received after the stop: not handled...
    CHECK(d.routes().at(0).stats().received == 1);
    CHECK(d.routes().at(0).stats().released == 1);                   // ...but handed back,
    CHECK(attributes(url).at("ApproximateNumberOfMessages") == "1"); // visible now, not in 30 s
    // The poll ended when the message came (after about 0.5 s), not after its 20 s wait.
    CHECK(std::chrono::steady_clock::now() - begin < 15s);
}

TEST_CASE_FIXTURE(sqs_fixture, "sqs: handlers cancelled at the shutdown deadline release their messages at once")
{
    const auto url = create_queue("deadline");
    send(url, numbered(3));
    std::atomic<int> started{0};
    std::vector<courier::route> routes;
    routes.emplace_back("stuck", courier::make_sqs_provider(client, queue_options(url)),
                        [&](const courier::message&) -> asio::awaitable<void> {
                            ++started;
                            co_await sleep_real(1h);
                        });
    const auto begin = std::chrono::steady_clock::now();
    const auto kind = run_routes(std::move(routes), [&] { return started == 3; }, {.shutdown_deadline = 500ms});
    CHECK(kind == courier::stop_kind::cancelled);
    // The 500 ms deadline and at most a 1 s long poll, not the handlers' hour.
    CHECK(std::chrono::steady_clock::now() - begin < 60s);
    // The three cancelled ones, and again if the long poll still in flight picked them up.
    CHECK(last_routes_stats.at(0).released >= 3);
    // Visible again now, not after the 30 s visibility timeout.
    CHECK(attributes(url).at("ApproximateNumberOfMessages") == "3");
}

TEST_CASE_FIXTURE(sqs_fixture, "sqs: server errors carry the action, the queue and what the server said")
{
    const std::string missing = shared_server().endpoint() + "/000000000000/does-not-exist";
    try
    {
        run([&]() -> asio::awaitable<void> {
            // A named message: GCC 12 miscompiles braced temporaries inside co_await.
            courier::outgoing_message msg{.body = "x"};
            co_await client->send(missing, std::move(msg));
        });
        FAIL("expected an error");
    }
    catch (const courier::error& e)
    {
        CHECK(e.context().action == "SendMessage");
        CHECK(e.context().queue == missing);
        CHECK(e.context().status == 400);
        CHECK_FALSE(e.context().server_code.empty());
        CHECK(std::string(e.what()).find("courier-test-secret") == std::string::npos);
    }
}

TEST_CASE_FIXTURE(sqs_fixture, "sqs: a queue that does not exist stops the service within seconds with exit code 3")
{
    // Retrying cannot create the queue: the start-up check (GetQueueAttributes) fails at
    // once, and the service says what to fix instead of backing off forever.
    const std::string missing = shared_server().endpoint() + "/000000000000/no-such-queue";
    courier::manager_options o;
    o.dispatch.log = logs.make(courier::log_level::info);
    courier::manager mgr(io, o);
    auto provider = courier::make_sqs_provider(client, {.queue_url = missing, .wait_time = 1s});
    mgr.add_route("orders", provider, [](const courier::message&) -> asio::awaitable<void> { co_return; });
    const auto started = std::chrono::steady_clock::now();
    io.restart();
    CHECK(mgr.run() == courier::exit_permanent_error);
    // Seconds on an idle machine (one request, no retries); the bound is the 20x rule.
    CHECK(std::chrono::steady_clock::now() - started < 60s);
    CHECK(logs.contains("ERROR [orders] stopping: SQS says the queue does not exist"));
    CHECK(logs.contains("no-such-queue"));
}
