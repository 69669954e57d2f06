// The AMQP connection against a real RabbitMQ: confirmed publishing, prefetch-bounded
// consumption, ack, nack with requeue and the redelivered flag, quorum queues' exact
// delivery count, a channel closed by the broker surfaced as an error, an unroutable
// mandatory message, blocked/unblocked publishing, and heartbeats.
//
// Declarations are built in named variables before co_await: GCC 12 miscompiles a braced
// aggregate holding strings in a co_await expression (see README).
#include "amqp/connection.hpp"
#include "broker_fixture.hpp"

#include <courier/amqp/client.hpp>

#include <cstdio>
#include <future>
#include <set>

using namespace courier_test;
namespace amqp = courier::amqp;

namespace {

struct amqp_fixture : broker_fixture
{
    amqp::connection_options options(std::chrono::seconds heartbeat = std::chrono::seconds(10))
    {
        auto o = amqp::parse_url(broker.amqp_url());
        o.heartbeat = heartbeat;
        o.log = logs.make(courier::log_level::debug);
        // Generous: a broker under a 2-core build can take seconds to confirm.
        o.publish_timeout = std::chrono::seconds(120);
        return o;
    }

    std::shared_ptr<amqp::connection> connect(amqp::connection_options o)
    {
        auto c = std::make_shared<amqp::connection>(io.get_executor(), std::move(o));
        c->start();
        return c;
    }

    static asio::awaitable<std::vector<amqp::delivery>> drain(amqp::subscription& s, std::size_t count,
                                                              std::chrono::milliseconds quiet)
    {
        std::vector<amqp::delivery> all;
        while (all.size() < count)
        {
            auto batch = co_await s.receive(count - all.size(), quiet);
            if (batch.empty())
                break;
            for (auto& d : batch)
                all.push_back(std::move(d));
        }
        co_return all;
    }

    static std::string header(const amqp::delivery& d, std::string_view name)
    {
        if (!d.props.headers)
            return {};
        const auto* v = d.props.headers->find(name);
        const auto* s = v ? std::get_if<std::string>(&v->value) : nullptr;
        return s ? *s : std::string();
    }
};

} // namespace

TEST_CASE_FIXTURE(amqp_fixture, "amqp broker: confirmed publish, prefetch-bounded consumption, ack")
{
    const std::string queue = unique("amqp-basic");
    amqp::client client(io.get_executor(), options());
    auto conn = client.connection_ptr();
    auto publisher = client.publisher("", queue);
    std::vector<std::string> ids;
    run([&]() -> asio::awaitable<void> {
        amqp::queue_declare_args declared{.queue = queue, .durable = true};
        co_await conn->declare_queue(std::move(declared));
        for (int i = 0; i < 5; ++i)
        {
            courier::outgoing_message m;
            m.body = "message " + std::to_string(i);
            m.attributes["kind"] = {"String", "test"};
            ids.push_back(co_await publisher->publish(std::move(m)));
        }
        auto sub = conn->subscribe({.queue = queue, .prefetch = 2});
        auto first = co_await drain(*sub, 5, std::chrono::milliseconds(1500));
        REQUIRE(first.size() == 2); // no more than the prefetch without acks
        CHECK(first[0].body == "message 0");
        CHECK(first[0].props.message_id == ids[0]);
        CHECK(first[0].props.delivery_mode == 2);
        CHECK(header(first[0], "kind") == "test");
        CHECK_FALSE(first[0].deliver.redelivered);
        for (auto& d : first)
            co_await sub->ack(d);
        auto rest = co_await drain(*sub, 2, std::chrono::seconds(10)); // the prefetch again
        REQUIRE(rest.size() == 2);
        for (auto& d : rest)
            co_await sub->ack(d);
        auto last = co_await drain(*sub, 1, std::chrono::seconds(10));
        REQUIRE(last.size() == 1);
        co_await sub->ack(last[0]);
        CHECK((co_await sub->receive(10, std::chrono::milliseconds(500))).empty());
        co_await client.close();
    });
    CHECK(std::set<std::string>(ids.begin(), ids.end()).size() == 5);
    CHECK(logs.contains("connected to RabbitMQ"));
}

TEST_CASE_FIXTURE(amqp_fixture, "amqp broker: nack with requeue brings the message back flagged redelivered")
{
    const std::string queue = unique("amqp-nack");
    auto conn = connect(options());
    run([&]() -> asio::awaitable<void> {
        amqp::queue_declare_args declared{.queue = queue, .durable = true};
        co_await conn->declare_queue(std::move(declared));
        amqp::publish_args a;
        a.routing_key = queue;
        a.body = "again";
        co_await conn->publish(std::move(a));
        auto sub = conn->subscribe({.queue = queue, .prefetch = 1});
        auto first = co_await drain(*sub, 1, std::chrono::seconds(10));
        REQUIRE(first.size() == 1);
        CHECK_FALSE(first[0].deliver.redelivered);
        co_await sub->nack(first[0], true);
        auto second = co_await drain(*sub, 1, std::chrono::seconds(10));
        REQUIRE(second.size() == 1);
        CHECK(second[0].body == "again");
        CHECK(second[0].deliver.redelivered);
        co_await sub->ack(second[0]);
        co_await conn->close();
    });
}

TEST_CASE_FIXTURE(amqp_fixture, "amqp broker: a quorum queue counts deliveries exactly (x-delivery-count)")
{
    const std::string queue = unique("amqp-quorum");
    auto conn = connect(options());
    run([&]() -> asio::awaitable<void> {
        amqp::queue_declare_args q{.queue = queue, .durable = true};
        q.arguments.set("x-queue-type", std::string("quorum"));
        co_await conn->declare_queue(std::move(q));
        amqp::publish_args a;
        a.routing_key = queue;
        a.body = "counted";
        co_await conn->publish(std::move(a));
        auto sub = conn->subscribe({.queue = queue, .prefetch = 1});
        for (std::int64_t attempt = 0; attempt < 3; ++attempt)
        {
            auto got = co_await drain(*sub, 1, std::chrono::seconds(10));
            REQUIRE(got.size() == 1);
            const auto* count = got[0].props.headers ? got[0].props.headers->find("x-delivery-count") : nullptr;
            if (attempt == 0)
                CHECK(count == nullptr); // first delivery: no header
            else
            {
                REQUIRE(count != nullptr);
                CHECK(count->value == amqp::field_value(attempt).value);
            }
            if (attempt < 2)
                co_await sub->nack(got[0], true);
            else
                co_await sub->ack(got[0]);
        }
        co_await conn->close();
    });
}

TEST_CASE_FIXTURE(amqp_fixture,
                  "amqp broker: the broker's channel close is an error with its reply; the connection goes on")
{
    const std::string queue = unique("amqp-refused");
    auto conn = connect(options());
    run([&]() -> asio::awaitable<void> {
        amqp::queue_declare_args declared{.queue = queue, .durable = true};
        co_await conn->declare_queue(std::move(declared));
        try
        {
            amqp::queue_declare_args other{.queue = queue, .durable = false}; // other properties
            co_await conn->declare_queue(std::move(other));
            FAIL("expected a refusal");
        }
        catch (const courier::error& e)
        {
            CHECK(e.code() == courier::errc::server_error);
            CHECK(e.context().server_code == "406");
            CHECK(contains(e.context().server_message, "PRECONDITION_FAILED"));
            CHECK(e.context().action == "queue.declare");
        }
        // A consumer of a missing queue: its receive says so (404), once per attempt.
        auto missing = conn->subscribe({.queue = unique("amqp-missing"), .prefetch = 1});
        try
        {
            co_await missing->receive(1, std::chrono::seconds(10));
            FAIL("expected NOT_FOUND");
        }
        catch (const courier::error& e)
        {
            CHECK(e.context().server_code == "404");
        }
        // Unroutable with mandatory: returned, and the publish fails with the broker's reason.
        amqp::publish_args lost;
        lost.routing_key = unique("amqp-no-such-queue");
        lost.body = "x";
        try
        {
            co_await conn->publish(std::move(lost));
            FAIL("expected a return");
        }
        catch (const courier::error& e)
        {
            CHECK(e.context().server_code == "312");
            CHECK(e.context().server_message == "NO_ROUTE");
        }
        // Still the same connection, and publishing works.
        amqp::publish_args fine;
        fine.routing_key = queue;
        fine.body = "fine";
        co_await conn->publish(std::move(fine));
        CHECK(conn->generation() == 1);
        co_await conn->close();
    });
}

TEST_CASE_FIXTURE(amqp_fixture, "amqp broker: publishing waits while the broker blocks it, and goes on when unblocked")
{
    const std::string queue = unique("amqp-blocked");
    amqp::client client(io.get_executor(), options());
    auto conn = client.connection_ptr();
    auto publisher = client.publisher("", queue);
    run([&]() -> asio::awaitable<void> {
        amqp::queue_declare_args declared{.queue = queue, .durable = true};
        co_await conn->declare_queue(std::move(declared));
        courier::outgoing_message before;
        before.body = "before";
        co_await publisher->publish(std::move(before));
    });
    // A memory alarm: the broker blocks every connection that publishes. rabbitmqctl runs on
    // its own thread (it takes seconds) while the connection keeps running here; the alarm is
    // cleared whatever happens, or every later publisher of the run would be blocked too.
    struct clear_alarm
    {
        rabbitmq_server& broker;
        ~clear_alarm()
        {
            try
            {
                broker.ctl("set_vm_memory_high_watermark 0.4");
            }
            catch (const std::exception& e)
            {
                std::fprintf(stderr, "cannot clear the memory alarm: %s\n", e.what());
            }
        }
    } guard{broker};
    bool published = false;
    run(
        [&]() -> asio::awaitable<void> {
            auto alarm = std::async(std::launch::async, [&] { broker.ctl("set_vm_memory_high_watermark 0.0000001"); });
            while (alarm.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
                co_await pause(std::chrono::milliseconds(20));
            alarm.get();
            asio::co_spawn(
                co_await asio::this_coro::executor,
                [&]() -> asio::awaitable<void> {
                    courier::outgoing_message m;
                    m.body = "during";
                    co_await publisher->publish(std::move(m));
                    published = true;
                },
                asio::detached);
            while (!client.blocked())
                co_await pause(std::chrono::milliseconds(20));
            co_await pause(std::chrono::milliseconds(500));
            CHECK_FALSE(published); // sent, but held by the broker until the alarm clears
            auto clear = std::async(std::launch::async, [&] { broker.ctl("set_vm_memory_high_watermark 0.4"); });
            while (!published || client.blocked())
                co_await pause(std::chrono::milliseconds(20));
            clear.get();
            co_await client.close();
        },
        std::chrono::seconds(300));
    CHECK(logs.contains("the broker blocks publishing"));
    CHECK(logs.contains("the broker unblocked publishing"));
}

TEST_CASE_FIXTURE(amqp_fixture, "amqp broker: heartbeats keep an idle connection up")
{
    auto conn = connect(options(std::chrono::seconds(1)));
    run([&]() -> asio::awaitable<void> {
        while (!conn->connected())
            co_await pause(std::chrono::milliseconds(20));
        co_await pause(std::chrono::seconds(5));
        CHECK(conn->connected());
        CHECK(conn->generation() == 1);
        co_await conn->close();
    });
    CHECK(logs.contains("(heartbeat 1 s"));
    CHECK_FALSE(logs.contains("connection lost"));
}
