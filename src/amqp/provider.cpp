// The AMQP provider (see courier/amqp/provider.hpp): a consumer with a bounded prefetch on
// the connection's own channel, and retries through retry queues over the confirm channel.
#include "courier/amqp/provider.hpp"

#include "amqp/connection.hpp"
#include "broker/held.hpp"
#include "broker/on_exit.hpp"
#include "broker/retry.hpp"
#include "broker/ticker.hpp"
#include "courier/error.hpp"

#include <boost/asio/this_coro.hpp>

#include <algorithm>
#include <charconv>
#include <set>

namespace asio = boost::asio;
using std::chrono::milliseconds;

namespace courier::amqp {
namespace {

// A header's value as a message attribute; nullopt for what has no attribute form (tables,
// arrays, void: RabbitMQ's x-death among them).
std::optional<attribute> to_attribute(const field_value& v)
{
    return std::visit(
        [](const auto& x) -> std::optional<attribute> {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, std::string>)
                return attribute{"String", x};
            else if constexpr (std::is_same_v<T, byte_array>)
                return attribute{"Binary", x.bytes};
            else if constexpr (std::is_same_v<T, bool>)
                return attribute{"String", x ? "true" : "false"};
            else if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>)
                return attribute{"Number", std::to_string(x)};
            else if constexpr (std::is_integral_v<T>)
                return attribute{"Number", std::to_string(x)};
            else if constexpr (std::is_same_v<T, timestamp_value>)
                return attribute{"Number", std::to_string(x.seconds)};
            else
                return std::nullopt;
        },
        v.value);
}

// A count in a header, whatever integer type (or decimal string) the sender chose.
std::optional<std::uint64_t> count_of(const field_value* v)
{
    if (v == nullptr)
        return std::nullopt;
    return std::visit(
        [](const auto& x) -> std::optional<std::uint64_t> {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>)
                return x < 0 ? std::nullopt : std::optional<std::uint64_t>(static_cast<std::uint64_t>(x));
            else if constexpr (std::is_same_v<T, std::string>)
                return broker::parse_count(x);
            else
                return std::nullopt;
        },
        v->value);
}

// Headers RabbitMQ or courier set, reported as system attributes rather than user ones.
bool is_system_header(std::string_view name)
{
    return name == "x-delivery-count" || name.starts_with("x-courier-") || name == "x-death" ||
           name.starts_with("x-first-death-") || name.starts_with("x-last-death-");
}

// "<epoch>:<channel>:<delivery tag>".
std::string make_receipt(const delivery& d)
{
    char text[64]; // three numbers of at most 20 digits and two colons
    auto end = std::to_chars(text, text + sizeof text, d.epoch).ptr;
    *end++ = ':';
    end = std::to_chars(end, text + sizeof text, d.channel).ptr;
    *end++ = ':';
    end = std::to_chars(end, text + sizeof text, d.deliver.delivery_tag).ptr;
    return std::string(text, end);
}

delivery parse_receipt(const message& m)
{
    std::uint64_t epoch = 0, tag = 0;
    std::uint16_t channel = 0;
    const char* p = m.receipt.data();
    const char* end = p + m.receipt.size();
    auto r1 = std::from_chars(p, end, epoch);
    auto r2 = r1.ptr < end && *r1.ptr == ':' ? std::from_chars(r1.ptr + 1, end, channel) : r1;
    auto r3 = r2.ptr < end && *r2.ptr == ':' ? std::from_chars(r2.ptr + 1, end, tag) : r2;
    if (r1.ec != std::errc{} || r2.ptr == r1.ptr || r3.ptr == r2.ptr || r3.ptr != end)
        throw error(errc::stale_receipt, "not a receipt of an AMQP provider: '" + m.receipt + "'",
                    {.message_id = m.id});
    return subscription::settled(epoch, channel, tag);
}

class amqp_provider final : public courier::provider,
                            private courier::delayed_retry,
                            private courier::ack_by_callback,
                            public std::enable_shared_from_this<amqp_provider>
{
public:
    amqp_provider(std::shared_ptr<client> c, bool owns, provider_options o)
        : client_(std::move(c)),
          owns_client_(owns),
          options_(std::move(o)),
          connection_(client_->connection_ptr())
    {
        queue_ = options_.listener && options_.queue.empty() ? broker::queue_name(*options_.listener) : options_.queue;
        if (queue_.empty())
            throw error(errc::bad_configuration, "AMQP provider needs a queue (or a listener)");
        if (options_.prefetch > 65535)
            throw error(errc::bad_configuration, "AMQP prefetch must be at most 65535", {.queue = queue_});
        broker::validate(options_.retry, queue_);
        if (options_.wait_time <= milliseconds::zero())
            throw error(errc::bad_configuration, "AMQP wait_time must be positive (a stop ends a wait at once)",
                        {.queue = queue_});
        if (options_.type == queue_type::quorum)
            options_.durable = true; // RabbitMQ has no other kind
        if (options_.listener)
            options_.durable = options_.listener->durable;
    }

    std::string name() const override { return "amqp " + queue_ + " on " + connection_->name(); }

    asio::awaitable<void> open(std::size_t max_in_flight) override
    {
        if (subscription_)
            co_return;
        if (options_.listener)
        {
            queue_declare_args q{.queue = queue_, .durable = options_.durable, .auto_delete = !options_.durable};
            co_await connection_->declare_queue(std::move(q));
            co_await connection_->bind_queue(queue_, std::string(broker::event_exchange), options_.listener->event);
        }
        else if (options_.declare)
            co_await declare_or_use(queue_, options_.durable, options_.type == queue_type::quorum);
        else
        {
            queue_declare_args q{.queue = queue_, .passive = true};
            co_await connection_->declare_queue(std::move(q));
        }
        if (!options_.retry.dead_letter_queue.empty())
            co_await declare_or_use(options_.retry.dead_letter_queue, true, false);
        const auto prefetch = options_.prefetch ? options_.prefetch : std::clamp<std::size_t>(max_in_flight, 1, 65535);
        subscription_options s;
        s.queue = queue_;
        s.prefetch = prefetch;
        subscription_ = connection_->subscribe(std::move(s));
        if (options_.consumer_timeout > milliseconds::zero())
            watch_.start(connection_->executor(), connection_->clock(),
                         std::max(options_.consumer_timeout / 12, milliseconds(1)), [this] { warn_overdue(); });
    }

    asio::awaitable<std::vector<message>> receive(std::size_t max) override
    {
        if (!subscription_)
            throw error(errc::provider_closed, "AMQP provider not opened", {.queue = queue_});
        // Straight from the subscription's buffer into messages: no vector of deliveries between.
        const auto n = std::min(max, co_await subscription_->wait_for_deliveries(options_.wait_time));
        std::vector<message> out;
        out.reserve(n);
        const auto now = connection_->clock()->now();
        for (std::size_t i = 0; i < n; ++i)
        {
            out.push_back(to_message(subscription_->front(), now));
            subscription_->pop_front();
        }
        co_return out;
    }

    asio::awaitable<void> ack(const message& msg) override
    {
        const auto d = parse_receipt(msg);
        broker::on_exit forget([&] { held_.erase(msg.receipt); });
        co_await subscription_->ack(d);
    }

    // The writer calls the listener once the basic.ack is written: no coroutine waits per message.
    void start_ack(const message& msg, ack_listener& listener) override
    {
        held_.erase(msg.receipt);
        subscription_->start_ack(msg, listener, parse_receipt);
    }

    asio::awaitable<void> release(const message& msg) override
    {
        const auto d = parse_receipt(msg);
        broker::on_exit forget([&] { held_.erase(msg.receipt); });
        co_await subscription_->nack(d, true);
    }

    asio::awaitable<void> retry(const message& msg, milliseconds delay) override
    {
        switch (broker::plan_retry(options_.retry, msg.receive_count, delay))
        {
        case broker::retry_step::release: co_await release(msg); co_return;
        case broker::retry_step::dead_letter: co_await dead_letter(msg); co_return;
        case broker::retry_step::retry_queue: break;
        }
        const auto bucket = broker::retry_bucket(options_.retry, delay);
        const auto target = broker::retry_queue_name(queue_, bucket);
        if (!retry_queues_.contains(bucket))
        {
            queue_declare_args q{.queue = target, .durable = options_.durable};
            q.arguments.set("x-message-ttl", static_cast<std::int64_t>(bucket.count()));
            q.arguments.set("x-dead-letter-exchange", std::string());
            q.arguments.set("x-dead-letter-routing-key", queue_);
            co_await connection_->declare_or_use_queue(std::move(q));
            retry_queues_.insert(bucket);
        }
        co_await publish_copy(msg, target);
        co_await ack(msg);
    }

    void stop_receiving() override
    {
        if (subscription_)
            subscription_->cancel();
    }

    asio::awaitable<void> close() override
    {
        stop_receiving();
        watch_.stop();
        if (owns_client_ && client_)
            co_await client_->close();
    }

    // The route runs on the connection's executor, where everything of the connection runs.
    std::optional<asio::any_io_executor> executor() const override { return connection_->executor(); }

    provider_capabilities capabilities() override
    {
        return {.retry = this,
                .ack_callback = this,
                .redelivery =
                    options_.type == queue_type::quorum ? redelivery_info::exact_count : redelivery_info::flag};
    }

private:
    message to_message(delivery& d, courier::clock::time_point now)
    {
        message m;
        m.receipt = make_receipt(d);
        // Moved: a retry copy takes the message's id, not the held properties' (publish_copy).
        m.id = d.props.message_id ? std::move(*d.props.message_id) : m.receipt;
        m.body = std::move(d.body);
        m.redelivered = d.deliver.redelivered;
        std::uint32_t before = 0;
        std::optional<std::uint64_t> delivery_count;
        if (d.props.headers)
        {
            const auto& headers = *d.props.headers;
            before = static_cast<std::uint32_t>(count_of(headers.find(broker::deliveries_header)).value_or(0));
            delivery_count = count_of(headers.find("x-delivery-count"));
            for (const auto& [name, value] : headers.entries)
                if (auto a = to_attribute(value))
                {
                    if (is_system_header(name))
                        m.system_attributes.emplace(name, std::move(a->value));
                    else
                        m.attributes.emplace(name, std::move(*a));
                }
        }
        m.receive_count = broker::receive_count(before, delivery_count, m.redelivered);
        m.system_attributes.emplace("exchange", d.deliver.exchange);
        m.system_attributes.emplace("routing_key", d.deliver.routing_key);
        m.system_attributes.emplace("redelivered", m.redelivered ? "true" : "false");
        if (d.props.content_type)
            m.system_attributes.emplace("content_type", *d.props.content_type);
        if (d.props.timestamp)
            m.sent_at = std::chrono::system_clock::time_point(std::chrono::seconds(*d.props.timestamp));
        held_.add(m.receipt, std::move(d.props), now);
        return m;
    }

    asio::awaitable<void> declare_or_use(const std::string& name, bool durable, bool quorum)
    {
        queue_declare_args q{.queue = name, .durable = durable};
        if (quorum)
            q.arguments.set("x-queue-type", std::string("quorum"));
        co_await connection_->declare_or_use_queue(std::move(q));
    }

    // A confirmed copy of `msg` (its original properties, or what the message says of
    // itself) with the deliveries so far, to `target` through the default exchange.
    asio::awaitable<void> publish_copy(const message& msg, const std::string& target)
    {
        publish_args a;
        if (const auto* props = held_.find(msg.receipt))
            a.props = *props;
        a.props.message_id = msg.id;
        if (options_.durable)
            a.props.delivery_mode = 2;
        if (!a.props.headers)
            a.props.headers.emplace();
        for (const auto& [name, attr] : msg.attributes)
            if (!a.props.headers->find(name))
                a.props.headers->set(name, attr.data_type.starts_with("Binary") ? field_value(byte_array{attr.value})
                                                                                : field_value(attr.value));
        // x-delivery-count belongs to the copy's own queue; ours carries the deliveries so far.
        std::erase_if(a.props.headers->entries, [](const auto& e) { return e.first == "x-delivery-count"; });
        a.props.headers->set(std::string(broker::deliveries_header), static_cast<std::int64_t>(msg.receive_count));
        a.routing_key = target;
        a.body = msg.body;
        co_await connection_->publish(std::move(a));
    }

    asio::awaitable<void> dead_letter(const message& msg)
    {
        const auto& target = options_.retry.dead_letter_queue;
        auto& log = connection_->options().log;
        if (target.empty())
        {
            co_await reject(msg);
            log.log(log_level::warning, "", msg.id,
                    "{}: dead-lettered after {} deliveries (rejected to the "
                    "dead-letter exchange of {})",
                    connection_->name(), msg.receive_count, queue_);
            co_return;
        }
        co_await publish_copy(msg, target);
        co_await ack(msg);
        log.log(log_level::warning, "", msg.id, "{}: dead-lettered to {} after {} deliveries", connection_->name(),
                target, msg.receive_count);
    }

    asio::awaitable<void> reject(const message& msg)
    {
        const auto d = parse_receipt(msg);
        broker::on_exit forget([&] { held_.erase(msg.receipt); });
        co_await subscription_->nack(d, false);
    }

    void warn_overdue()
    {
        held_.warn_overdue(connection_->options().log, connection_->clock()->now(), options_.consumer_timeout,
                           connection_->name(), queue_, "closes the channel");
    }

    std::shared_ptr<client> client_;
    bool owns_client_;
    provider_options options_;
    std::shared_ptr<connection> connection_;
    std::string queue_;
    std::shared_ptr<subscription> subscription_;
    broker::held_deliveries<properties> held_;
    std::set<milliseconds> retry_queues_; // declared on this connection
    broker::ticker watch_;
};

} // namespace

std::shared_ptr<courier::provider> make_provider(asio::any_io_executor executor, connection_options connection,
                                                 provider_options options)
{
    auto c = std::make_shared<client>(std::move(executor), std::move(connection));
    return std::make_shared<amqp_provider>(std::move(c), true, std::move(options));
}

std::shared_ptr<courier::provider> make_provider(std::shared_ptr<client> c, provider_options options)
{
    if (!c)
        throw error(errc::bad_configuration, "AMQP provider without a client");
    return std::make_shared<amqp_provider>(std::move(c), false, std::move(options));
}

} // namespace courier::amqp
