// The public AMQP client and its confirmed publisher (see courier/amqp/client.hpp).
#include "courier/amqp/client.hpp"

#include "amqp/connection.hpp"
#include "broker/message_id.hpp"
#include "broker/run_on.hpp"
#include "courier/broker/listener_queue.hpp"
#include "courier/error.hpp"

#include <boost/asio/post.hpp>

#include <chrono>

namespace courier::amqp {
namespace {

class amqp_publisher final : public courier::publisher
{
public:
    amqp_publisher(std::shared_ptr<connection> c, std::string exchange, std::string routing_key,
                   publisher_options options)
        : connection_(std::move(c)),
          exchange_(std::move(exchange)),
          routing_key_(std::move(routing_key)),
          options_(std::move(options))
    {
    }

    boost::asio::awaitable<std::string> publish(outgoing_message msg) override
    {
        auto refuse = [&](const char* what) {
            return error(errc::bad_configuration, std::string("an AMQP publisher cannot honour a ") + what,
                         {.action = "basic.publish", .queue = exchange_ + "/" + routing_key_});
        };
        if (!msg.group_id.empty())
            throw refuse("message group id");
        if (!msg.deduplication_id.empty())
            throw refuse("deduplication id");
        if (msg.delay.count() != 0)
            throw refuse("delivery delay");
        publish_args a;
        a.exchange = exchange_;
        a.routing_key = routing_key_;
        a.mandatory = options_.mandatory;
        a.props.message_id = broker::new_message_id();
        a.props.timestamp = static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
                .count());
        if (options_.persistent)
            a.props.delivery_mode = 2;
        if (!options_.content_type.empty())
            a.props.content_type = options_.content_type;
        if (!msg.attributes.empty())
        {
            field_table headers;
            for (auto& [name, attribute] : msg.attributes)
            {
                if (attribute.data_type.rfind("Binary", 0) == 0)
                    headers.set(name, byte_array{std::move(attribute.value)});
                else
                    headers.set(name, std::move(attribute.value));
            }
            a.props.headers = std::move(headers);
        }
        a.body = std::move(msg.body);
        std::string id = *a.props.message_id;
        co_await broker::run_on(connection_->executor(), [&] { return connection_->publish(std::move(a)); });
        co_return id;
    }

private:
    std::shared_ptr<connection> connection_;
    std::string exchange_, routing_key_;
    publisher_options options_;
};

} // namespace

client::client(boost::asio::any_io_executor executor, connection_options options)
    : connection_(std::make_shared<connection>(std::move(executor), std::move(options)))
{
    connection_->start();
}

client::~client()
{
    boost::asio::post(connection_->executor(), [c = connection_] { c->stop(); });
}

std::shared_ptr<courier::publisher> client::publisher(std::string exchange, std::string routing_key,
                                                      publisher_options options)
{
    return std::make_shared<amqp_publisher>(connection_, std::move(exchange), std::move(routing_key),
                                            std::move(options));
}

std::shared_ptr<courier::publisher> client::event_publisher(const event_descriptor& event)
{
    return publisher(std::string(broker::event_exchange), event.name,
                     {.persistent = event.durable, .mandatory = false, .content_type = "application/json"});
}

bool client::blocked() const noexcept
{
    return connection_->blocked();
}

boost::asio::awaitable<void> client::close()
{
    return broker::run_on(connection_->executor(), [c = connection_] { return c->close(); });
}

} // namespace courier::amqp
