// The eventing example as deployed, on the run's RabbitMQ in a vhost of its own: two listener
// processes (one over AMQP, one over STOMP), events sent by a third. The shared listener bills
// each order once between the two; the per_process one caches every price change in each.
// SIGTERM ends both with status 0; the per_process queues go with them, while orders sent with
// nobody listening wait, persistent, in the durable queue for the next process.
#include "broker_fixture.hpp"
#include "child_process.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <signal.h>
#include <sstream>
#include <thread>
#include <unistd.h>

using namespace courier_test;
using namespace std::chrono_literals;

#ifndef COURIER_EVENTING
#define COURIER_EVENTING ""
#endif

namespace {

// The lines of `text` that start with `prefix`.
std::vector<std::string> lines_starting(const std::string& text, std::string_view prefix)
{
    std::vector<std::string> found;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);)
        if (line.starts_with(prefix))
            found.push_back(line);
    return found;
}

struct eventing_fixture : broker_fixture
{
    const std::string binary = COURIER_EVENTING;
    const std::string vhost = unique("eventing");

    eventing_fixture()
    {
        broker.ctl("add_vhost " + vhost);
        broker.ctl("set_permissions -p " + vhost + " guest \".*\" \".*\" \".*\"");
    }

    std::string amqp_url() const { return broker.amqp_url() + vhost; }
    std::string stomp_url() const { return broker.stomp_url() + vhost; }

    std::unique_ptr<child> listener(const std::string& url, const std::string& server_name)
    {
        return std::make_unique<child>(
            std::vector<std::string>{binary, "listen", "--broker-url", url, "--server-name", server_name, "--debug"},
            "eventing-" + server_name + ".out", "eventing-" + server_name + ".err");
    }

    // Runs `eventing send` to the end; its stdout.
    std::string send(const std::string& url, int orders, int price_changes)
    {
        child sender({binary, "send", "--broker-url", url, "--orders", std::to_string(orders), "--price-changes",
                      std::to_string(price_changes)},
                     "eventing-send.out", "eventing-send.err");
        REQUIRE_MESSAGE(sender.wait(120s), "eventing send did not finish");
        INFO("stderr:\n" << sender.err());
        REQUIRE(sender.status() == "exited with status 0");
        return sender.out();
    }

    // queue -> "durable consumers messages_ready messages_persistent" in our vhost.
    std::map<std::string, std::string> queues()
    {
        std::map<std::string, std::string> found;
        std::istringstream lines(broker.ctl("list_queues -p " + vhost +
                                            " name durable consumers messages_ready messages_persistent "
                                            "--no-table-headers --quiet"));
        for (std::string line; std::getline(lines, line);)
            if (const auto tab = line.find('\t'); tab != std::string::npos)
            {
                std::string rest = line.substr(tab + 1);
                std::replace(rest.begin(), rest.end(), '\t', ' ');
                found[line.substr(0, tab)] = rest;
            }
        return found;
    }

    // Polls `done` every 200 ms for up to `limit`, failing early if a listener ended.
    bool until(const std::function<bool()>& done, std::initializer_list<child*> running,
               std::chrono::milliseconds limit = 90s)
    {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < deadline)
        {
            for (auto* c : running)
                if (c->ended())
                {
                    FAIL_CHECK("a listener ended early: " << c->status() << "\nstderr:\n" << c->err());
                    return false;
                }
            if (done())
                return true;
            std::this_thread::sleep_for(200ms);
        }
        return false;
    }
};

} // namespace

TEST_CASE_FIXTURE(eventing_fixture, "eventing example: a shared listener bills each order once across two processes "
                                    "(AMQP and STOMP), a per_process one caches every price change in each; "
                                    "durable orders wait for the next process")
{
    if (binary.empty())
    {
        MESSAGE("skipped: the examples are not built (-Dexamples=false)");
        return;
    }
    REQUIRE_MESSAGE(::access(binary.c_str(), X_OK) == 0, "the eventing example is not built: " << binary);

    auto s1 = listener(amqp_url(), "s1");
    auto s2 = listener(stomp_url(), "s2");
    // Both subscribed: two consumers on the shared queue, one on each per_process queue.
    const bool subscribed = until(
        [&] {
            auto q = queues();
            return q["order.placed::billing"] == "true 2 0 0" && q["price.changed::price_cache-s1"] == "false 1 0 0" &&
                   q["price.changed::price_cache-s2"] == "false 1 0 0";
        },
        {s1.get(), s2.get()});
    INFO("s1 stderr:\n" << s1->err());
    INFO("s2 stderr:\n" << s2->err());
    REQUIRE(subscribed);

    CHECK(send(amqp_url(), 20, 4) == "sent 20 order.placed and 4 price.changed events\n");
    const auto billed = [&] {
        return lines_starting(s1->out(), "billing: ").size() + lines_starting(s2->out(), "billing: ").size();
    };
    const auto cached = [&](child& c) { return lines_starting(c.out(), "price_cache: ").size(); };
    CHECK(until([&] { return billed() >= 20 && cached(*s1) >= 4 && cached(*s2) >= 4; }, {s1.get(), s2.get()}));
    std::this_thread::sleep_for(500ms); // anything more would be a duplicate: let it show

    // Each order billed once, between the two processes, and both took a share.
    std::multiset<std::string> orders;
    for (auto* c : {s1.get(), s2.get()})
    {
        const auto lines = lines_starting(c->out(), "billing: ");
        CHECK(!lines.empty());
        for (const auto& line : lines)
            orders.insert(line.substr(0, line.find(" on ")));
    }
    std::multiset<std::string> expected;
    for (int i = 1; i <= 20; ++i)
        expected.insert("billing: order o-" + std::to_string(i) + " (" + std::to_string(i) + " x sku-" +
                        std::to_string(i % 3) + ")");
    CHECK(orders == expected);
    // Every price change in each process (handled concurrently: in any order).
    for (auto [c, name] : {std::pair{s1.get(), std::string("s1")}, std::pair{s2.get(), std::string("s2")}})
    {
        auto lines = lines_starting(c->out(), "price_cache: ");
        std::sort(lines.begin(), lines.end());
        CHECK(lines == std::vector<std::string>{
                           "price_cache: sku-0 costs 3.99 on " + name, "price_cache: sku-1 costs 1.99 on " + name,
                           "price_cache: sku-1 costs 4.99 on " + name, "price_cache: sku-2 costs 2.99 on " + name});
    }

    REQUIRE(s1->stop(SIGTERM, 60s));
    REQUIRE(s2->stop(SIGTERM, 60s));
    CHECK(s1->status() == "exited with status 0");
    CHECK(s2->status() == "exited with status 0");
    CHECK(lines_starting(s1->out(), "s1: billed ").size() == 1);
    CHECK(lines_starting(s2->out(), "s2: ").back().ends_with(", 3 prices cached"));

    // The per_process queues (not durable) went with their processes; the shared one stays.
    CHECK(until(
        [&] {
            auto q = queues();
            return q.size() == 1 && q["order.placed::billing"] == "true 0 0 0";
        },
        {}, 30s));

    // With nobody listening: orders wait, persistent; price changes have no queue and are dropped.
    CHECK(send(stomp_url(), 3, 2) == "sent 3 order.placed and 2 price.changed events\n");
    CHECK(until([&] { return queues()["order.placed::billing"] == "true 0 3 3"; }, {}, 30s));
    auto s3 = listener(amqp_url(), "s3");
    CHECK(until([&] { return lines_starting(s3->out(), "billing: ").size() >= 3; }, {s3.get()}));
    REQUIRE(s3->stop(SIGTERM, 60s));
    INFO("s3 stderr:\n" << s3->err());
    CHECK(s3->status() == "exited with status 0");
    auto waited = lines_starting(s3->out(), "billing: ");
    std::sort(waited.begin(), waited.end());
    CHECK(waited == std::vector<std::string>{"billing: order o-1 (1 x sku-1) on s3",
                                             "billing: order o-2 (2 x sku-2) on s3",
                                             "billing: order o-3 (3 x sku-0) on s3"});
    CHECK(lines_starting(s3->out(), "price_cache: ").empty());
    broker.ctl("delete_vhost " + vhost);
}
