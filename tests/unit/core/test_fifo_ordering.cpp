// FIFO groups through a route: a message starts only after the one before it in its group
// was acknowledged, and when a group message ends any other way its waiting group-mates are
// given back unstarted, so the group is redelivered in order. The memory queue hands out a
// whole group in one receive, as SQS may.
#include "../test_support.hpp"

using namespace courier_test;

namespace {

struct fifo_fixture : dispatcher_fixture
{
    std::shared_ptr<courier::memory_provider> q = queue({.visibility_timeout = 30s, .fifo = true});
    std::shared_ptr<recording_provider> recorder = std::make_shared<recording_provider>(q);
    std::vector<std::string> ids; // of bodies "0".."4", in order
    std::vector<std::string> handled;

    void send_group()
    {
        for (int i = 0; i < 5; ++i)
            ids.push_back(q->send(courier::outgoing_message{.body = std::to_string(i), .group_id = "G"}));
        // Another group keeps flowing meanwhile.
        for (int i = 0; i < 3; ++i)
            q->send(courier::outgoing_message{.body = "other" + std::to_string(i), .group_id = "H"});
    }

    std::vector<std::string> group(const char* g) const
    {
        std::vector<std::string> out;
        for (const auto& b : handled)
            if ((b.rfind("other", 0) == 0) == (std::string_view(g) == "H"))
                out.push_back(b);
        return out;
    }

    // A route whose handler fails the first delivery of message "0" and lets `on_error` decide.
    courier::dispatcher dispatcher(courier::error_handler on_error, courier::clock::duration work_time = 1s)
    {
        std::vector<courier::route> routes;
        routes.emplace_back(
            "fifo", recorder,
            [this, work_time](const courier::message& m) -> asio::awaitable<void> {
                handled.push_back(m.body);
                co_await work(*clock, work_time);
                if (m.body == "0" && m.receive_count == 1)
                    throw std::runtime_error("poison");
            },
            courier::route_options{.max_in_flight = 10, .on_error = std::move(on_error)});
        return courier::dispatcher(io.get_executor(), std::move(routes), options());
    }
};

const std::vector<std::string> in_order{"0", "0", "1", "2", "3", "4"};

} // namespace

TEST_CASE_FIXTURE(fifo_fixture, "fifo: a retried head holds its group back; the group comes again in order")
{
    send_group();
    auto d =
        dispatcher([](const courier::context&, std::exception_ptr) { return courier::error_action::retry_after(10s); });
    run(d, [&] { return q->empty(); });
    CHECK(group("G") == in_order);
    CHECK(group("H") == std::vector<std::string>{"other0", "other1", "other2"});
    CHECK(recorder->retried == std::vector<std::string>{ids[0]});
    // 1..4 were given back unstarted, then delivered after 0.
    CHECK(recorder->released == std::vector<std::string>{ids[1], ids[2], ids[3], ids[4]});
    CHECK(d.routes()[0].stats().released == 4);
    CHECK(d.routes()[0].stats().acked == 8);
}

TEST_CASE_FIXTURE(fifo_fixture, "fifo: a left head holds its group until its visibility timeout")
{
    send_group();
    auto d = dispatcher([](const courier::context&, std::exception_ptr) { return courier::error_action::leave(); });
    const auto start = clock->now();
    run(d, [&] { return q->empty(); });
    CHECK(group("G") == in_order);
    CHECK(recorder->leaves == 1);
    CHECK(recorder->released.size() == 4);
    CHECK(clock->now() - start >= 30s); // 0 came back only when its timeout ran out
}

TEST_CASE_FIXTURE(fifo_fixture, "fifo: a released head is delivered again before the rest of its group")
{
    send_group();
    auto d = dispatcher([](const courier::context&, std::exception_ptr) { return courier::error_action::release(); });
    run(d, [&] { return q->empty(); });
    CHECK(group("G") == in_order);
    CHECK(recorder->released.size() == 5);
}

TEST_CASE_FIXTURE(fifo_fixture, "fifo: without an error handler a failed head is left, and the group waits for it")
{
    send_group();
    auto d = dispatcher({});
    run(d, [&] { return q->empty(); });
    CHECK(group("G") == in_order);
}

TEST_CASE_FIXTURE(fifo_fixture, "fifo: an acknowledgement that is not confirmed holds the group back")
{
    send_group();
    recorder->fail_ack_once.insert(ids[0]);
    std::vector<courier::route> routes;
    routes.emplace_back("fifo", recorder, [this](const courier::message& m) -> asio::awaitable<void> {
        handled.push_back(m.body);
        co_await work(*clock, 1s);
    });
    courier::dispatcher d(io.get_executor(), std::move(routes), options());
    run(d, [&] { return q->empty(); });
    CHECK(group("G") == in_order); // 0 handled, its ack failed, so it came back first
    CHECK(logs.contains("ack failed: injected ack failure"));
    CHECK(recorder->released.size() == 4);
}

TEST_CASE_FIXTURE(fifo_fixture, "fifo: a head cancelled at shutdown gives its group back; the next run keeps the order")
{
    send_group();
    std::vector<courier::route> routes;
    routes.emplace_back("fifo", recorder, [this](const courier::message& m) -> asio::awaitable<void> {
        handled.push_back(m.body);
        co_await work(*clock, m.body == "0" ? 1h : 1s);
    });
    courier::dispatcher first(io.get_executor(), std::move(routes), options({.shutdown_deadline = 5s}));
    CHECK(run(first, [&] { return !handled.empty(); }) == courier::stop_kind::cancelled);
    CHECK(group("G") == std::vector<std::string>{"0"});
    // 0 was cancelled and released; 1..4 were released without being started. (Of group H,
    // the first was handled; the two behind it were released unstarted at the stop.)
    CHECK(std::count_if(recorder->released.begin(), recorder->released.end(), [&](const std::string& id) {
              return std::find(ids.begin(), ids.end(), id) != ids.end();
          }) == 5);
    CHECK(recorder->released.size() == 7);

    handled.clear();
    std::vector<courier::route> again;
    again.emplace_back("fifo", recorder, [this](const courier::message& m) -> asio::awaitable<void> {
        handled.push_back(m.body);
        co_return;
    });
    courier::dispatcher second(io.get_executor(), std::move(again), options());
    run(second, [&] { return q->empty(); });
    CHECK(group("G") == std::vector<std::string>{"0", "1", "2", "3", "4"});
}
