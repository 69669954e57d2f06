// The provider conformance suite on RabbitMQ: the AMQP provider on a classic and on a quorum
// queue, and the STOMP provider, in real (short) time, on the run's one broker.
#include "../integration/broker_fixture.hpp"
#include "provider_conformance.hpp"

#include <courier/amqp.hpp>
#include <courier/stomp.hpp>

namespace {

using namespace std::chrono_literals;

// Short waits: the suite counts its time in poll steps of 100 ms, so a receive must return
// at once with what the broker pushed (1 ms) or each step would last longer than it counts.
courier::broker::retry_policy short_retries()
{
    courier::broker::retry_policy r;
    r.buckets = {1s, 3s, 10s};
    return r;
}

template <class Derived> struct broker_harness : courier_test::broker_fixture
{
    static constexpr bool supports_fifo = false;

    template <class Fn> auto run(Fn fn) { return broker_fixture::run(std::move(fn)); }

    boost::asio::awaitable<void> pause(std::chrono::milliseconds d) { co_await courier_test::pause(d); }

    courier_conformance::queue_pair make_queue(bool, std::chrono::seconds)
    {
        auto& self = static_cast<Derived&>(*this);
        const auto name = unique(self.prefix());
        auto reader = [&self, name] { return self.make_provider(name); };
        auto another = [this, reader] {
            auto p = reader();
            broker_fixture::run([&]() -> boost::asio::awaitable<void> { co_await p->open(10); });
            return p;
        };
        return {reader(), self.make_publisher(name), another};
    }
};

template <courier::amqp::queue_type type> struct amqp_harness : broker_harness<amqp_harness<type>>
{
    std::shared_ptr<courier::amqp::client> client =
        std::make_shared<courier::amqp::client>(this->io.get_executor(), connection());

    courier::amqp::connection_options connection()
    {
        auto o = courier::amqp::parse_url(this->broker.amqp_url());
        o.log = this->logs.make(courier::log_level::info);
        return o;
    }
    const char* prefix() const { return type == courier::amqp::queue_type::quorum ? "conf-quorum" : "conf-amqp"; }
    std::shared_ptr<courier::provider> make_provider(const std::string& queue)
    {
        return courier::make_amqp_provider(this->io.get_executor(), connection(),
                                           {.queue = queue, .type = type, .wait_time = 1ms, .retry = short_retries()});
    }
    std::shared_ptr<courier::publisher> make_publisher(const std::string& queue)
    {
        return client->publisher("", queue);
    }
};

struct stomp_harness : broker_harness<stomp_harness>
{
    std::shared_ptr<courier::stomp::client> client =
        std::make_shared<courier::stomp::client>(io.get_executor(), connection());

    courier::stomp::connection_options connection()
    {
        auto o = courier::stomp::parse_url(broker.stomp_url());
        o.log = logs.make(courier::log_level::info);
        return o;
    }
    const char* prefix() const { return "conf-stomp"; }
    std::shared_ptr<courier::provider> make_provider(const std::string& queue)
    {
        return courier::make_stomp_provider(io.get_executor(), connection(),
                                            {.queue = queue, .wait_time = 1ms, .retry = short_retries()});
    }
    std::shared_ptr<courier::publisher> make_publisher(const std::string& queue)
    {
        return client->publisher("/queue/" + queue);
    }
};

using amqp_classic_harness = amqp_harness<courier::amqp::queue_type::classic>;
using amqp_quorum_harness = amqp_harness<courier::amqp::queue_type::quorum>;

} // namespace

COURIER_PROVIDER_CONFORMANCE(amqp_classic_harness);
COURIER_PROVIDER_CONFORMANCE(amqp_quorum_harness);
COURIER_PROVIDER_CONFORMANCE(stomp_harness);
