// The STOMP provider (see courier/stomp/provider.hpp): a subscription with a bounded
// prefetch, and retries through retry queues by SENDs with a receipt.
#include "courier/stomp/provider.hpp"

#include "broker/held.hpp"
#include "broker/on_exit.hpp"
#include "broker/retry.hpp"
#include "broker/ticker.hpp"
#include "courier/error.hpp"
#include "stomp/connection.hpp"

#include <algorithm>
#include <charconv>
#include <iterator>

namespace asio = boost::asio;
using std::chrono::milliseconds;

namespace courier::stomp {
namespace {

// What becomes of a MESSAGE's header.
enum class header_role
{
    framing,  ///< the subscription it came on, its ack id (the receipt holds it), its body's length: kept nowhere
    delivery, ///< this delivery's own, a retry queue's argument from an earlier trip, or one a copy sets anew
              ///< (send_copy): a system attribute, not copied
    protocol, ///< STOMP's or RabbitMQ's, copied into a retry: a system attribute
    user,     ///< the sender's: an attribute, copied into a retry
};

header_role role_of(std::string_view name)
{
    // Scanned in order, RabbitMQ's MESSAGE headers first: string_view's == compares lengths
    // first, so a miss costs little.
    struct known
    {
        std::string_view name;
        header_role role;
    };
    static constexpr known names[]{{"subscription", header_role::framing},
                                   {"destination", header_role::delivery},
                                   {"message-id", header_role::delivery},
                                   {"redelivered", header_role::delivery},
                                   {"ack", header_role::framing},
                                   {"amqp-message-id", header_role::delivery},
                                   {"persistent", header_role::delivery},
                                   {"content-length", header_role::framing},
                                   {"content-type", header_role::protocol},
                                   {"receipt", header_role::delivery},
                                   {"x-delivery-count", header_role::delivery},
                                   {"x-message-ttl", header_role::delivery},
                                   {"x-dead-letter-exchange", header_role::delivery},
                                   {"x-dead-letter-routing-key", header_role::delivery},
                                   {"x-queue-type", header_role::delivery},
                                   {"x-queue-name", header_role::protocol},
                                   {"durable", header_role::protocol},
                                   {"auto-delete", header_role::protocol},
                                   {"exclusive", header_role::protocol},
                                   {"prefetch-count", header_role::protocol},
                                   {"x-death", header_role::delivery}};
    for (const auto& k : names)
        if (k.name == name)
            return k.role;
    if (name == broker::deliveries_header || name.starts_with("x-first-death-") || name.starts_with("x-last-death-"))
        return header_role::delivery;
    if (name.starts_with("x-courier-"))
        return header_role::protocol;
    return header_role::user;
}

bool is_copied(header_role role)
{
    return role == header_role::protocol || role == header_role::user;
}

class stomp_provider final : public courier::provider,
                             private courier::delayed_retry,
                             private courier::ack_by_callback,
                             public std::enable_shared_from_this<stomp_provider>
{
public:
    stomp_provider(std::shared_ptr<client> c, bool owns, provider_options o)
        : client_(std::move(c)),
          owns_client_(owns),
          options_(std::move(o)),
          connection_(client_->connection_ptr())
    {
        queue_ = options_.listener && options_.queue.empty() ? broker::queue_name(*options_.listener) : options_.queue;
        if (queue_.empty())
            throw error(errc::bad_configuration, "STOMP provider needs a queue (or a listener)");
        if (options_.queue_type != "classic" && options_.queue_type != "quorum")
            throw error(errc::bad_configuration,
                        "STOMP queue_type must be classic or quorum, not " + options_.queue_type, {.queue = queue_});
        broker::validate(options_.retry, queue_);
        if (options_.wait_time <= milliseconds::zero())
            throw error(errc::bad_configuration, "STOMP wait_time must be positive (a stop ends a wait at once)",
                        {.queue = queue_});
        durable_ = options_.listener ? options_.listener->durable : true;
    }

    std::string name() const override { return "stomp " + queue_ + " on " + connection_->name(); }

    asio::awaitable<void> open(std::size_t max_in_flight) override
    {
        if (subscription_)
            co_return;
        subscription_options s;
        s.prefetch = options_.prefetch ? options_.prefetch : std::max<std::size_t>(max_in_flight, 1);
        if (options_.listener)
        {
            // RabbitMQ binds the named queue to amq.topic with the event as routing key.
            s.destination = "/topic/" + options_.listener->event;
            s.headers = {{"x-queue-name", queue_},
                         {"durable", durable_ ? "true" : "false"},
                         {"auto-delete", durable_ ? "false" : "true"}};
        }
        else
        {
            s.destination = "/queue/" + queue_;
            if (options_.queue_type != "classic")
                s.headers.emplace_back("x-queue-type", options_.queue_type);
        }
        subscription_ = connection_->subscribe(std::move(s));
        if (options_.consumer_timeout > milliseconds::zero())
            watch_.start(connection_->executor(), connection_->clock(),
                         std::max(options_.consumer_timeout / 12, milliseconds(1)), [this] { warn_overdue(); });
        co_return;
    }

    asio::awaitable<std::vector<message>> receive(std::size_t max) override
    {
        if (!subscription_)
            throw error(errc::provider_closed, "STOMP provider not opened", {.queue = queue_});
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
        broker::on_exit forget([&] { settled(msg.receipt); });
        co_await subscription_->ack(d);
    }

    // The writer calls the listener once the ACK is written: no coroutine waits per message.
    void start_ack(const message& msg, ack_listener& listener) override
    {
        held_.erase(msg.receipt);
        subscription_->start_ack(msg, listener, parse_receipt); // may be over already: `msg` is gone then
        unsubscribe_when_settled();                             // after the ACK, so an UNSUBSCRIBE goes behind it
    }

    asio::awaitable<void> release(const message& msg) override
    {
        const auto d = parse_receipt(msg);
        broker::on_exit forget([&] { settled(msg.receipt); });
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
        // RabbitMQ declares the retry queue from these headers on the first SEND to it.
        header_list declare{{"x-message-ttl", std::to_string(bucket.count())},
                            {"x-dead-letter-exchange", ""},
                            {"x-dead-letter-routing-key", queue_}};
        co_await send_copy(msg, "/queue/" + broker::retry_queue_name(queue_, bucket), std::move(declare));
        co_await ack(msg);
    }

    // Unlike AMQP's basic.cancel, UNSUBSCRIBE makes RabbitMQ requeue what the handlers still
    // work on (their ACKs would then be refused): give back only what no handler took, and
    // end the subscription once the last taken message is settled (on a shared connection by
    // UNSUBSCRIBE, on an own one by close's DISCONNECT).
    void stop_receiving() override
    {
        stopping_ = true;
        if (subscription_)
            subscription_->give_back_buffered();
        unsubscribe_when_settled();
    }

    asio::awaitable<void> close() override
    {
        stopping_ = true;
        // With a connection of its own, DISCONNECT ends the subscription (RabbitMQ requeues
        // what was not acknowledged); an UNSUBSCRIBE first has been seen refused under load
        // ("no current subscription"), an ERROR that ends the connection before its receipt.
        if (subscription_ && owns_client_)
            subscription_->give_back_buffered();
        else if (subscription_)
            subscription_->cancel();
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
                .redelivery = options_.queue_type == "quorum" ? redelivery_info::exact_count : redelivery_info::flag};
    }

private:
    void settled(const std::string& receipt)
    {
        held_.erase(receipt);
        unsubscribe_when_settled();
    }

    void unsubscribe_when_settled()
    {
        if (stopping_ && held_.size() == 0 && subscription_ && !owns_client_)
            subscription_->cancel(); // an own connection's DISCONNECT does it (see close)
    }

    // "<generation>:<ack id>"; the ack id may hold colons of its own.
    static std::string make_receipt(const delivery& d)
    {
        char generation[20];
        const auto end = std::to_chars(std::begin(generation), std::end(generation), d.generation).ptr;
        std::string receipt;
        receipt.reserve(static_cast<std::size_t>(end - generation) + 1 + d.ack_id.size());
        receipt.append(generation, end).append(1, ':').append(d.ack_id);
        return receipt;
    }

    // A view into `m.receipt`.
    static delivery_id parse_receipt(const message& m)
    {
        delivery_id d;
        const auto colon = m.receipt.find(':');
        const auto [end, ec] =
            std::from_chars(m.receipt.data(), m.receipt.data() + std::min(colon, m.receipt.size()), d.generation);
        if (colon == std::string::npos || ec != std::errc{} || end != m.receipt.data() + colon)
            throw error(errc::stale_receipt, "not a receipt of a STOMP provider: '" + m.receipt + "'",
                        {.message_id = m.id});
        d.ack_id = std::string_view(m.receipt).substr(colon + 1);
        return d;
    }

    message to_message(delivery& d, courier::clock::time_point now)
    {
        message m;
        m.receipt = make_receipt(d);
        const auto id = d.f.header("amqp-message-id");
        m.id = id.empty() ? m.receipt : std::string(id);
        m.redelivered = d.redelivered;
        const auto before = broker::parse_count(d.f.header(broker::deliveries_header)).value_or(0);
        const auto delivery_count = broker::parse_count(d.f.header("x-delivery-count"));
        m.receive_count = broker::receive_count(static_cast<std::uint32_t>(std::min<std::uint64_t>(before, UINT32_MAX)),
                                                delivery_count, m.redelivered);
        // The delivery keeps only the headers a retry or dead-letter copy takes (send_copy);
        // the others move into the message instead of being copied.
        auto kept = d.f.headers.begin();
        for (auto it = d.f.headers.begin(); it != d.f.headers.end(); ++it)
        {
            auto& [name, value] = *it;
            const auto role = role_of(name);
            if (role == header_role::framing)
                continue;
            if (!is_copied(role))
            {
                m.system_attributes.emplace(std::move(name), std::move(value));
                continue;
            }
            if (role == header_role::protocol)
                m.system_attributes.emplace(name, value);
            else
                m.attributes.emplace(name, attribute{"String", value});
            if (kept != it)
                *kept = std::move(*it);
            ++kept;
        }
        d.f.headers.erase(kept, d.f.headers.end());
        m.body = std::move(d.f.body);
        d.f.body.clear();
        held_.add(m.receipt, std::move(d.f.headers), now);
        return m;
    }

    // A copy of `msg` with the deliveries so far, SENT to `destination` with a receipt.
    asio::awaitable<void> send_copy(const message& msg, std::string destination, header_list headers)
    {
        if (const auto* original = held_.find(msg.receipt))
        {
            for (const auto& [name, value] : *original)
                if (is_copied(role_of(name)))
                    headers.emplace_back(name, value);
        }
        else
            for (const auto& [name, a] : msg.attributes)
                headers.emplace_back(name, a.value);
        std::erase_if(headers, [](const auto& h) { return h.first == "amqp-message-id" || h.first == "persistent"; });
        headers.emplace_back("amqp-message-id", msg.id);
        headers.emplace_back(std::string(broker::deliveries_header), std::to_string(msg.receive_count));
        if (durable_)
            headers.emplace_back("persistent", "true");
        co_await connection_->send(std::move(destination), msg.body, std::move(headers));
    }

    asio::awaitable<void> dead_letter(const message& msg)
    {
        const auto& target = options_.retry.dead_letter_queue;
        auto& log = connection_->options().log;
        if (target.empty())
        {
            const auto d = parse_receipt(msg);
            {
                broker::on_exit forget([&] { settled(msg.receipt); });
                co_await subscription_->nack(d, false);
            }
            log.log(log_level::warning, "", msg.id,
                    "{}: dead-lettered after {} deliveries (rejected to the "
                    "dead-letter exchange of {})",
                    connection_->name(), msg.receive_count, queue_);
            co_return;
        }
        co_await send_copy(msg, "/queue/" + target, {});
        co_await ack(msg);
        log.log(log_level::warning, "", msg.id, "{}: dead-lettered to {} after {} deliveries", connection_->name(),
                target, msg.receive_count);
    }

    void warn_overdue()
    {
        held_.warn_overdue(connection_->options().log, connection_->clock()->now(), options_.consumer_timeout,
                           connection_->name(), queue_, "ends the connection");
    }

    std::shared_ptr<client> client_;
    bool owns_client_;
    provider_options options_;
    std::shared_ptr<connection> connection_;
    std::string queue_;
    bool durable_ = true;
    std::shared_ptr<subscription> subscription_;
    broker::held_deliveries<header_list> held_;
    broker::ticker watch_;
    bool stopping_ = false; // the route stopped receiving: unsubscribe once nothing is held
};

} // namespace

std::shared_ptr<courier::provider> make_provider(asio::any_io_executor executor, connection_options connection,
                                                 provider_options options)
{
    auto c = std::make_shared<client>(std::move(executor), std::move(connection));
    return std::make_shared<stomp_provider>(std::move(c), true, std::move(options));
}

std::shared_ptr<courier::provider> make_provider(std::shared_ptr<client> c, provider_options options)
{
    if (!c)
        throw error(errc::bad_configuration, "STOMP provider without a client");
    return std::make_shared<stomp_provider>(std::move(c), false, std::move(options));
}

} // namespace courier::stomp
