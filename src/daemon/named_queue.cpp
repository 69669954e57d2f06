// An SQS queue given by name: a provider that asks GetQueueUrl when its route opens it and
// then hands everything to the SQS provider for that URL. Resolving in `open` rather than in
// `main` puts the lookup on the service's own event loop, under the route's retry and
// permanent-error handling: a name that does not exist stops the service with exit status 3
// and the queue named, a network failure is retried with back-off.
#include <courier/daemon.hpp>
#include <courier/error.hpp>

namespace asio = boost::asio;

namespace courier {

namespace {

class named_sqs_queue final : public provider
{
public:
    named_sqs_queue(std::shared_ptr<sqs_client> client, std::string name, sqs_queue_options options)
        : client_(std::move(client)),
          name_(std::move(name)),
          options_(std::move(options))
    {
    }

    std::string name() const override { return name_; }

    asio::awaitable<void> open(std::size_t max_in_flight) override
    {
        // A failed open is retried on the same provider: resolve until it worked once.
        if (!resolved_)
        {
            options_.queue_url = co_await client_->get_queue_url(name_);
            resolved_ = make_sqs_provider(client_, options_);
        }
        co_await resolved_->open(max_in_flight);
    }

    asio::awaitable<std::vector<message>> receive(std::size_t max) override { return resolved_->receive(max); }

    asio::awaitable<void> ack(const message& msg) override { return resolved_->ack(msg); }

    asio::awaitable<void> release(const message& msg) override { return resolved_->release(msg); }

    asio::awaitable<void> close() override
    {
        if (resolved_)
            co_await resolved_->close();
    }

    // Asked after `open`, so the SQS provider exists; its capabilities point to itself, which
    // lives as long as this wrapper.
    provider_capabilities capabilities() override { return resolved_->capabilities(); }

private:
    std::shared_ptr<sqs_client> client_;
    std::string name_;
    sqs_queue_options options_;
    std::shared_ptr<provider> resolved_;
};

} // namespace

bool is_queue_url(std::string_view queue) noexcept
{
    return queue.starts_with("https://") || queue.starts_with("http://");
}

std::string queue_name(std::string_view queue)
{
    if (!is_queue_url(queue))
        return std::string(queue);
    while (queue.ends_with('/'))
        queue.remove_suffix(1);
    return std::string(queue.substr(queue.find_last_of('/') + 1));
}

std::shared_ptr<provider> make_sqs_provider_for(std::shared_ptr<sqs_client> client, std::string queue,
                                                sqs_queue_options options)
{
    if (!client)
        throw error(errc::bad_configuration, "an SQS queue needs an SQS client", {.queue = queue});
    if (queue.empty())
        throw error(errc::bad_configuration, "an SQS queue needs a URL or a name");
    if (is_queue_url(queue))
    {
        options.queue_url = std::move(queue);
        return make_sqs_provider(std::move(client), std::move(options));
    }
    return std::make_shared<named_sqs_queue>(std::move(client), std::move(queue), std::move(options));
}

} // namespace courier
