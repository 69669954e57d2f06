// The public STOMP client and its publisher (see courier/stomp/client.hpp).
#include "courier/stomp/client.hpp"

#include "broker/message_id.hpp"
#include "broker/run_on.hpp"
#include "courier/error.hpp"
#include "stomp/connection.hpp"

#include <boost/asio/post.hpp>

namespace courier::stomp {
namespace {

class stomp_publisher final : public courier::publisher
{
public:
    stomp_publisher(std::shared_ptr<connection> c, std::string destination, publisher_options options)
        : connection_(std::move(c)),
          destination_(std::move(destination)),
          options_(std::move(options))
    {
    }

    boost::asio::awaitable<std::string> publish(outgoing_message msg) override
    {
        auto refuse = [&](const char* what) {
            return error(errc::bad_configuration, std::string("a STOMP publisher cannot honour a ") + what,
                         {.action = "SEND", .queue = destination_});
        };
        if (!msg.group_id.empty())
            throw refuse("message group id");
        if (!msg.deduplication_id.empty())
            throw refuse("deduplication id");
        if (msg.delay.count() != 0)
            throw refuse("delivery delay");
        std::string id = broker::new_message_id();
        header_list headers;
        headers.reserve(msg.attributes.size() + 3);
        for (auto& [name, a] : msg.attributes)
            headers.emplace_back(name, std::move(a.value));
        headers.emplace_back("amqp-message-id", id);
        if (options_.persistent)
            headers.emplace_back("persistent", "true");
        if (!options_.content_type.empty())
            headers.emplace_back("content-type", options_.content_type);
        co_await broker::run_on(connection_->executor(), [&] {
            return connection_->send(destination_, std::move(msg.body), std::move(headers));
        });
        co_return id;
    }

private:
    std::shared_ptr<connection> connection_;
    std::string destination_;
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
    // Without close(), stop at once (on the connection's executor, where it lives); the
    // broker requeues what was not acknowledged.
    boost::asio::post(connection_->executor(), [c = connection_] { c->stop(); });
}

std::shared_ptr<courier::publisher> client::publisher(std::string destination, publisher_options options)
{
    if (destination.empty())
        throw error(errc::bad_configuration, "STOMP publisher without a destination");
    return std::make_shared<stomp_publisher>(connection_, std::move(destination), std::move(options));
}

std::shared_ptr<courier::publisher> client::event_publisher(const event_descriptor& event)
{
    return publisher("/topic/" + event.name, {.persistent = event.durable, .content_type = "application/json"});
}

boost::asio::awaitable<void> client::close()
{
    return broker::run_on(connection_->executor(), [c = connection_] { return c->close(); });
}

} // namespace courier::stomp
