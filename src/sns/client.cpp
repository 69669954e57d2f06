// courier::sns_client over the shared signed AWS client, the one-topic publisher, and the
// media-type producer.
#include "aws/signed_client.hpp"
#include "sns/protocol.hpp"

#include <courier/error.hpp>
#include <courier/sns.hpp>

#include <fmt/format.h>

namespace asio = boost::asio;

namespace courier {

namespace {

aws::failed_answer read_sns_error(const http::response& resp, const aws::service_request& request)
{
    const auto parsed = sns::parse_error_response(static_cast<int>(resp.status), resp.body);
    return {sns::make_error(parsed, request.action, request.resource), parsed.retryable, parsed.throttling,
            aws::classify_auth_refusal(parsed.code, parsed.message)};
}

} // namespace

struct sns_client::impl
{
    impl(asio::any_io_executor executor, aws::client_options options)
        : aws(std::move(executor), std::move(options), {"sns", "SNS", "sns"}, &read_sns_error)
    {
    }

    /// Sends one request and returns the body of its 200 answer; `resource` (a topic ARN or
    /// name) goes into errors.
    template <class Request> asio::awaitable<std::string> call(const Request& request, std::string_view resource)
    {
        aws::service_request r{.action = Request::action,
                               .resource = resource,
                               .content_type = sns::content_type,
                               .target = {},
                               .body = sns::render(request)};
        return aws.call(std::move(r));
    }

    aws::signed_client aws;
};

sns_client::sns_client(asio::any_io_executor executor, aws::client_options options)
    : impl_(std::make_unique<impl>(std::move(executor), std::move(options)))
{
}

sns_client::~sns_client() = default;

const std::string& sns_client::endpoint() const noexcept
{
    return impl_->aws.endpoint();
}
const std::string& sns_client::region() const noexcept
{
    return impl_->aws.region();
}
std::uint64_t sns_client::requests_sent() const noexcept
{
    return impl_->aws.attempts_sent();
}

asio::awaitable<std::string> sns_client::publish(std::string topic_arn, sns_message msg)
{
    sns::publish_request req;
    req.topic_arn = topic_arn;
    req.message = msg.body;
    req.attributes = msg.attributes.empty() ? nullptr : &msg.attributes;
    req.subject = msg.subject;
    req.group_id = msg.group_id;
    req.deduplication_id = msg.deduplication_id;
    const auto body = co_await impl_->call(req, topic_arn);
    co_return sns::parse_publish(body);
}

asio::awaitable<std::string> sns_client::create_topic(std::string name, topic_attributes attributes)
{
    sns::create_topic_request req;
    req.name = name;
    req.attributes = attributes.empty() ? nullptr : &attributes;
    const auto body = co_await impl_->call(req, name);
    co_return sns::parse_create_topic(body);
}

asio::awaitable<std::string> sns_client::subscribe(std::string topic_arn, std::string protocol, std::string endpoint,
                                                   topic_attributes attributes)
{
    sns::subscribe_request req;
    req.topic_arn = topic_arn;
    req.protocol = protocol;
    req.endpoint = endpoint;
    req.attributes = attributes.empty() ? nullptr : &attributes;
    const auto body = co_await impl_->call(req, topic_arn);
    co_return sns::parse_subscribe(body);
}

asio::awaitable<void> sns_client::delete_topic(std::string topic_arn)
{
    sns::delete_topic_request req;
    req.topic_arn = topic_arn;
    co_await impl_->call(req, topic_arn);
}

// ---- publishers ----------------------------------------------------------------------

namespace {

class sns_publisher final : public publisher
{
public:
    sns_publisher(std::shared_ptr<sns_client> client, std::string topic_arn)
        : client_(std::move(client)),
          topic_arn_(std::move(topic_arn))
    {
    }

    asio::awaitable<std::string> publish(outgoing_message msg) override
    {
        // Silently sending at once what was meant for later would be worse than refusing.
        if (msg.delay > std::chrono::milliseconds::zero())
            throw error(errc::bad_configuration, "SNS has no delivery delay; publish without one",
                        {.action = "Publish", .queue = topic_arn_});
        // A named variable, not a temporary in the co_await expression (see sns_message).
        sns_message out(std::move(msg.body), std::move(msg.attributes));
        out.group_id = std::move(msg.group_id);
        out.deduplication_id = std::move(msg.deduplication_id);
        co_return co_await client_->publish(topic_arn_, std::move(out));
    }

private:
    std::shared_ptr<sns_client> client_;
    std::string topic_arn_;
};

} // namespace

std::shared_ptr<publisher> make_sns_publisher(std::shared_ptr<sns_client> client, std::string topic_arn)
{
    if (!client)
        throw error(errc::bad_configuration, "make_sns_publisher needs a client", {.queue = topic_arn});
    if (topic_arn.empty())
        throw error(errc::bad_configuration, "make_sns_publisher needs a topic ARN");
    return std::make_shared<sns_publisher>(std::move(client), std::move(topic_arn));
}

media_type_producer::media_type_producer(std::shared_ptr<sns_client> client,
                                         std::map<std::string, std::string, std::less<>> topics,
                                         std::string default_topic)
    : bus_(event_name_location::media_type_attribute())
{
    if (!client)
        throw error(errc::bad_configuration, "media_type_producer needs a client");
    for (auto& [media_type, topic] : topics)
    {
        if (topic.empty())
            throw error(errc::bad_configuration,
                        fmt::format("media_type_producer: media type '{}' has an empty topic ARN", media_type));
        bus_.send_to(media_type, make_sns_publisher(client, std::move(topic)));
    }
    if (!default_topic.empty())
        bus_.send_others_to(make_sns_publisher(client, std::move(default_topic)));
}

} // namespace courier
