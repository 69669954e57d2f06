// The provider conformance suite: what every provider must do, for the capabilities it
// declares (see include/courier/provider.hpp). Each provider's test file instantiates these
// cases with a harness that makes fresh queues of that provider:
//
//     TEST_CASE_TEMPLATE_INVOKE(provider_conformance, memory_harness);
//
// A harness `H` has:
//     H::supports_fifo                                  whether it can make FIFO queues
//     queue_pair H::make_queue(bool fifo, std::chrono::seconds visibility_timeout)
//     R H::run(F fn)                                    runs `fn()` (an awaitable) to its end
//     awaitable<void> H::pause(std::chrono::milliseconds) a wait on the harness's clock
// Times are the harness's own: simulated for the memory queue, real (and short) for SQS.
#ifndef COURIER_TESTS_CONFORMANCE_PROVIDER_CONFORMANCE_HPP
#define COURIER_TESTS_CONFORMANCE_PROVIDER_CONFORMANCE_HPP

#include <courier/error.hpp>
#include <courier/provider.hpp>
#include <courier/publisher.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace courier_conformance {

using namespace std::chrono_literals;
namespace asio = boost::asio;

struct queue_pair
{
    std::shared_ptr<courier::provider> provider;
    std::shared_ptr<courier::publisher> publisher;
    /// Another provider reading the same queue (opened), to look at it after `close`.
    std::function<std::shared_ptr<courier::provider>()> another_reader;
};

/// Receives until `n` messages came or `within` passed (on the harness's clock).
template <class H>
asio::awaitable<std::vector<courier::message>> receive_some(H& h, courier::provider& p, std::size_t n,
                                                            std::chrono::milliseconds within, std::size_t max = 10)
{
    std::vector<courier::message> got;
    for (auto waited = 0ms; got.size() < n && waited <= within; waited += 100ms)
    {
        auto batch = co_await p.receive(std::min(max, n - got.size()));
        CHECK(batch.size() <= std::min(max, n - got.size()));
        for (auto& m : batch)
            got.push_back(std::move(m));
        if (got.size() < n)
            co_await h.pause(100ms);
    }
    co_return got;
}

inline courier::outgoing_message body(std::string text)
{
    courier::outgoing_message m;
    m.body = std::move(text);
    return m;
}

template <class H> queue_pair open_queue(H& h, bool fifo = false, std::chrono::seconds visibility = 2s)
{
    auto q = h.make_queue(fifo, visibility);
    h.run([&]() -> asio::awaitable<void> { co_await q.provider->open(10); });
    return q;
}

} // namespace courier_conformance

TEST_CASE_TEMPLATE_DEFINE("conformance: receives what was sent, at most as many as asked", H,
                          provider_conformance_receive)
{
    using namespace courier_conformance;
    H h;
    auto q = open_queue(h);
    std::set<std::string> sent_ids;
    h.run([&]() -> asio::awaitable<void> {
        for (int i = 0; i < 3; ++i)
        {
            // Named first: GCC 12 miscompiles braced aggregates inside co_await (see README).
            courier::outgoing_message m;
            m.body = "body " + std::to_string(i);
            m.attributes["kind"] = courier::attribute{"String", "test"};
            sent_ids.insert(co_await q.publisher->publish(std::move(m)));
        }
    });
    const auto got = h.run([&]() -> asio::awaitable<std::vector<courier::message>> {
        co_return co_await receive_some(h, *q.provider, 3, 5s, 2);
    });
    REQUIRE(got.size() == 3);
    std::set<std::string> got_ids, bodies;
    for (const auto& m : got)
    {
        got_ids.insert(m.id);
        bodies.insert(m.body);
        CHECK_FALSE(m.receipt.empty());
        CHECK(m.attributes.at("kind").value == "test");
        CHECK(m.receive_count == 1);
        CHECK_FALSE(m.redelivered);
    }
    CHECK(got_ids == sent_ids);
    CHECK(bodies == std::set<std::string>{"body 0", "body 1", "body 2"});
    h.run([&]() -> asio::awaitable<void> {
        for (const auto& m : got)
            co_await q.provider->ack(m);
        co_await q.provider->close();
    });
}

TEST_CASE_TEMPLATE_DEFINE("conformance: an acknowledged message is not delivered again", H, provider_conformance_ack)
{
    using namespace courier_conformance;
    H h;
    auto q = open_queue(h, false, 1s);
    h.run([&]() -> asio::awaitable<void> { co_await q.publisher->publish(body("once")); });
    const auto again = h.run([&]() -> asio::awaitable<std::vector<courier::message>> {
        auto first = co_await receive_some(h, *q.provider, 1, 5s);
        REQUIRE(first.size() == 1);
        co_await q.provider->ack(first[0]);
        // Longer than any visibility timeout it had.
        co_return co_await receive_some(h, *q.provider, 1, 2500ms);
    });
    CHECK(again.empty());
    h.run([&]() -> asio::awaitable<void> { co_await q.provider->close(); });
}

TEST_CASE_TEMPLATE_DEFINE("conformance: a released message comes back at once, with a new receipt", H,
                          provider_conformance_release)
{
    using namespace courier_conformance;
    H h;
    auto q = open_queue(h, false, 30s);
    const auto caps = q.provider->capabilities();
    h.run([&]() -> asio::awaitable<void> { co_await q.publisher->publish(body("back")); });
    h.run([&]() -> asio::awaitable<void> {
        auto first = co_await receive_some(h, *q.provider, 1, 5s);
        REQUIRE(first.size() == 1);
        co_await q.provider->release(first[0]);
        // Well before the 30 s visibility timeout.
        auto second = co_await receive_some(h, *q.provider, 1, 5s);
        REQUIRE(second.size() == 1);
        CHECK(second[0].id == first[0].id);
        CHECK(second[0].body == "back");
        CHECK(second[0].receipt != first[0].receipt);
        if (caps.redelivery == courier::redelivery_info::exact_count)
            CHECK(second[0].receive_count == 2);
        if (caps.redelivery == courier::redelivery_info::flag)
            CHECK(second[0].redelivered);
        co_await q.provider->ack(second[0]);
        co_await q.provider->close();
    });
}

TEST_CASE_TEMPLATE_DEFINE("conformance: a delayed retry is not delivered before its delay", H,
                          provider_conformance_retry)
{
    using namespace courier_conformance;
    H h;
    auto q = open_queue(h, false, 30s);
    auto* retry = q.provider->capabilities().retry;
    if (retry == nullptr)
        return; // not declared: the dispatcher holds retries itself
    h.run([&]() -> asio::awaitable<void> { co_await q.publisher->publish(body("later")); });
    h.run([&]() -> asio::awaitable<void> {
        auto first = co_await receive_some(h, *q.provider, 1, 5s);
        REQUIRE(first.size() == 1);
        co_await retry->retry(first[0], 3s);
        const auto early = co_await receive_some(h, *q.provider, 1, 1500ms);
        CHECK(early.empty());
        auto second = co_await receive_some(h, *q.provider, 1, 5s);
        REQUIRE(second.size() == 1);
        CHECK(second[0].id == first[0].id);
        co_await q.provider->ack(second[0]);
        co_await q.provider->close();
    });
}

TEST_CASE_TEMPLATE_DEFINE("conformance: visibility: a message comes back after its timeout, unless extended", H,
                          provider_conformance_visibility)
{
    using namespace courier_conformance;
    H h;
    auto q = open_queue(h, false, 2s);
    auto* visibility = q.provider->capabilities().visibility;
    if (visibility == nullptr)
        return;
    CHECK(visibility->visibility_timeout() == 2s); // the queue's own, learned by open()
    CHECK(visibility->max_visibility() >= 0s);
    h.run([&]() -> asio::awaitable<void> {
        co_await q.publisher->publish(body("left"));
        co_await q.publisher->publish(body("extended"));
    });
    h.run([&]() -> asio::awaitable<void> {
        auto got = co_await receive_some(h, *q.provider, 2, 5s);
        REQUIRE(got.size() == 2);
        const auto& left = got[0].body == "left" ? got[0] : got[1];
        const auto& extended = got[0].body == "left" ? got[1] : got[0];
        visibility->leave(left);
        co_await h.pause(1s);
        co_await visibility->extend(extended, 6s);
        // At 3.5 s the left one is back, the extended one is not.
        auto back = co_await receive_some(h, *q.provider, 2, 2500ms);
        REQUIRE(back.size() == 1);
        CHECK(back[0].body == "left");
        CHECK(back[0].receive_count == 2);
        co_await q.provider->ack(back[0]);
        // The extended one comes back once its extension ran out.
        auto later = co_await receive_some(h, *q.provider, 1, 8s);
        REQUIRE(later.size() == 1);
        CHECK(later[0].body == "extended");
        co_await q.provider->ack(later[0]);
        co_await q.provider->close();
    });
}

TEST_CASE_TEMPLATE_DEFINE("conformance: acknowledgements started by callback are confirmed, and close flushes them", H,
                          provider_conformance_close)
{
    using namespace courier_conformance;
    H h;
    auto q = open_queue(h, false, 1s);
    auto* callback = q.provider->capabilities().ack_callback;
    struct listener final : courier::ack_listener
    {
        void acked(const courier::message&, std::exception_ptr error) noexcept override
        {
            ++calls;
            failed += error != nullptr;
        }
        int calls = 0;
        int failed = 0;
    } confirmations;
    h.run([&]() -> asio::awaitable<void> {
        for (int i = 0; i < 3; ++i)
            co_await q.publisher->publish(body(std::to_string(i)));
    });
    const auto got = h.run([&]() -> asio::awaitable<std::vector<courier::message>> {
        co_return co_await receive_some(h, *q.provider, 3, 5s);
    });
    REQUIRE(got.size() == 3);
    h.run([&]() -> asio::awaitable<void> {
        if (callback != nullptr)
            for (const auto& m : got)
                callback->start_ack(m, confirmations);
        else
            for (const auto& m : got)
                co_await q.provider->ack(m);
        co_await q.provider->close(); // flushes what is still buffered
    });
    if (callback != nullptr)
    {
        CHECK(confirmations.calls == 3);
        CHECK(confirmations.failed == 0);
    }
    // Nothing comes back, even after the visibility timeout.
    auto reader = q.another_reader();
    const auto again = h.run([&]() -> asio::awaitable<std::vector<courier::message>> {
        co_await h.pause(1500ms);
        co_return co_await receive_some(h, *reader, 1, 1s);
    });
    CHECK(again.empty());
}

TEST_CASE_TEMPLATE_DEFINE("conformance: a provider with an executor of its own works when every call comes from it", H,
                          provider_conformance_executor)
{
    using namespace courier_conformance;
    H h;
    auto q = h.make_queue(false, 30s);
    // Asked before `open`, as the dispatcher does, which then runs the route there.
    const auto executor = q.provider->executor();
    if (!executor)
        return;
    h.run([&]() -> asio::awaitable<void> {
        auto route = [&]() -> asio::awaitable<void> {
            co_await q.provider->open(10); // a broker provider declares its queue here
            co_await q.publisher->publish(body("kept"));
            co_await q.publisher->publish(body("given back"));
            auto got = co_await receive_some(h, *q.provider, 2, 5s);
            REQUIRE(got.size() == 2);
            co_await q.provider->release(got[1]);
            co_await q.provider->ack(got[0]);
            auto back = co_await receive_some(h, *q.provider, 1, 5s);
            REQUIRE(back.size() == 1);
            CHECK(back[0].id == got[1].id);
            co_await q.provider->ack(back[0]);
            co_await q.provider->close();
        };
        // Named first: GCC 12 miscompiles temporaries inside co_await (see README).
        auto on_its_executor = asio::co_spawn(*executor, route(), asio::use_awaitable);
        co_await std::move(on_its_executor);
    });
    auto reader = q.another_reader();
    const auto again = h.run([&]() -> asio::awaitable<std::vector<courier::message>> {
        co_return co_await receive_some(h, *reader, 1, 1s);
    });
    CHECK(again.empty());
}

TEST_CASE_TEMPLATE_DEFINE("conformance: FIFO groups come in order, and a group waits while one is in flight", H,
                          provider_conformance_fifo)
{
    using namespace courier_conformance;
    if constexpr (!H::supports_fifo)
        return;
    else
    {
        H h;
        auto q = open_queue(h, true, 30s);
        h.run([&]() -> asio::awaitable<void> {
            for (const char* text : {"a1", "a2", "a3"})
            {
                auto m = body(text);
                m.group_id = "A";
                m.deduplication_id = text;
                co_await q.publisher->publish(std::move(m));
            }
        });
        h.run([&]() -> asio::awaitable<void> {
            auto first = co_await receive_some(h, *q.provider, 1, 5s, 1);
            REQUIRE(first.size() == 1);
            CHECK(first[0].body == "a1");
            CHECK(first[0].group_id == "A");
            // a1 is in flight: nothing more of group A.
            const auto locked = co_await receive_some(h, *q.provider, 1, 1s);
            CHECK(locked.empty());
            co_await q.provider->ack(first[0]);
            // The rest in order, whether a receive brings one of them or both.
            std::vector<std::string> rest;
            for (auto waited = 0ms; rest.size() < 2 && waited < 10s; waited += 100ms)
            {
                for (const auto& m : co_await q.provider->receive(10))
                {
                    rest.push_back(m.body);
                    co_await q.provider->ack(m);
                }
                if (rest.size() < 2)
                    co_await h.pause(100ms);
            }
            CHECK(rest == std::vector<std::string>{"a2", "a3"});
            co_await q.provider->close();
        });
    }
}

/// Every case, for one harness type.
#define COURIER_PROVIDER_CONFORMANCE(harness)                                                                          \
    TEST_CASE_TEMPLATE_INVOKE(provider_conformance_receive, harness);                                                  \
    TEST_CASE_TEMPLATE_INVOKE(provider_conformance_ack, harness);                                                      \
    TEST_CASE_TEMPLATE_INVOKE(provider_conformance_release, harness);                                                  \
    TEST_CASE_TEMPLATE_INVOKE(provider_conformance_retry, harness);                                                    \
    TEST_CASE_TEMPLATE_INVOKE(provider_conformance_visibility, harness);                                               \
    TEST_CASE_TEMPLATE_INVOKE(provider_conformance_close, harness);                                                    \
    TEST_CASE_TEMPLATE_INVOKE(provider_conformance_executor, harness);                                                 \
    TEST_CASE_TEMPLATE_INVOKE(provider_conformance_fifo, harness)

#endif
