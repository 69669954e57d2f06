// The provider conformance suite on SQS, against a local fauxqs, in real (short) time.
#include "../integration/sqs_fixture.hpp"
#include "provider_conformance.hpp"

namespace {

struct sqs_harness : courier_test::sqs_fixture
{
    static constexpr bool supports_fifo = true;

    courier_conformance::queue_pair make_queue(bool fifo, std::chrono::seconds visibility)
    {
        courier::queue_attributes attributes{{"VisibilityTimeout", std::to_string(visibility.count())}};
        if (fifo)
            attributes["FifoQueue"] = "true";
        const auto url = create_queue("conformance", attributes);
        // No visibility timeout in the options: the provider must learn the queue's own.
        auto make_reader = [this, url] {
            return courier::make_sqs_provider(
                client,
                {.queue_url = url, .wait_time = std::chrono::seconds(0), .batch_window = std::chrono::milliseconds(1)});
        };
        auto another = [this, make_reader] {
            auto p = make_reader();
            sqs_fixture::run([&]() -> boost::asio::awaitable<void> { co_await p->open(10); });
            return p;
        };
        return {make_reader(), courier::make_sqs_publisher(client, url), another};
    }

    template <class Fn> auto run(Fn fn) { return sqs_fixture::run(std::move(fn)); }

    boost::asio::awaitable<void> pause(std::chrono::milliseconds d) { co_await courier_test::sleep_real(d); }
};

} // namespace

COURIER_PROVIDER_CONFORMANCE(sqs_harness);
