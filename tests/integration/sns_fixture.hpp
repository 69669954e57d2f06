// A fauxqs fixture with an SNS client: topics and subscriptions for the SNS and events
// integration tests.
#ifndef COURIER_TESTS_INTEGRATION_SNS_FIXTURE_HPP
#define COURIER_TESTS_INTEGRATION_SNS_FIXTURE_HPP

#include "sqs_fixture.hpp"

#include <courier/sns.hpp>

#include <atomic>
#include <optional>

namespace courier_test {

struct sns_fixture : sqs_fixture
{
    std::shared_ptr<courier::sns_client> sns;

    sns_fixture()
        : sns(std::make_shared<courier::sns_client>(io.get_executor(), client_options().aws))
    {
    }

    std::string create_topic(const std::string& base, courier::topic_attributes attributes = {})
    {
        static std::atomic<int> serial{0};
        const bool fifo = attributes.count("FifoTopic") != 0;
        const auto name = base + "-" + std::to_string(++serial) + (fifo ? ".fifo" : "");
        return run([&]() -> asio::awaitable<std::string> { co_return co_await sns->create_topic(name, attributes); });
    }

    /// Subscribes the queue at `url` to `topic`; returns the subscription ARN.
    std::string subscribe(const std::string& topic, const std::string& url, courier::topic_attributes attributes = {})
    {
        const auto queue_arn = this->attributes(url).at("QueueArn");
        return run([&]() -> asio::awaitable<std::string> {
            co_return co_await sns->subscribe(topic, "sqs", queue_arn, attributes);
        });
    }

    /// Runs one route on `url` with `translate` until a message was handled; returns it.
    template <class Translator> auto receive_one(const std::string& url, Translator translate)
    {
        using value_type = courier::translated_t<Translator>;
        std::optional<value_type> got;
        std::vector<courier::route> routes;
        routes.emplace_back("sns", courier::make_sqs_provider(client, queue_options(url)), translate,
                            [&](value_type v) -> asio::awaitable<void> {
                                got.emplace(std::move(v));
                                co_return;
                            });
        run_routes(std::move(routes), [&] { return got.has_value(); });
        REQUIRE(got);
        return *got;
    }
};

} // namespace courier_test

#endif
