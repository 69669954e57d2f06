// The SQS provider: long-polled receives, acknowledgements coalesced into
// DeleteMessageBatch, and retries, releases and heartbeats coalesced into
// ChangeMessageVisibilityBatch. Plus the one-queue publisher.
#include "sqs/batcher.hpp"
#include "sqs/client_impl.hpp"
#include "sqs/entry_retries.hpp"

#include <courier/error.hpp>
#include <courier/sqs.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <optional>

namespace asio = boost::asio;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace courier {

namespace {

// SQS caps a message's visibility at 12 hours.
constexpr int max_visibility_seconds = 12 * 60 * 60;

struct delete_entry
{
    std::string message_id;
    std::string receipt;
};

struct visibility_entry
{
    std::string message_id;
    std::string receipt;
    int timeout_seconds = 0;
};

// A delay in whole seconds, rounded up: a retry never comes back earlier than asked.
int delay_seconds(milliseconds d)
{
    const auto s = std::chrono::ceil<seconds>(std::max(d, milliseconds::zero())).count();
    return static_cast<int>(std::min<std::int64_t>(s, max_visibility_seconds));
}

// An extension in whole seconds, rounded down: never more than the heartbeat asked for, which
// stays within SQS's total limit. At least a second: zero would make the message visible.
int extension_seconds(milliseconds d)
{
    const auto s = std::chrono::floor<seconds>(d).count();
    return static_cast<int>(std::clamp<std::int64_t>(s, 1, max_visibility_seconds));
}

class sqs_provider final : public provider,
                           private visibility_control,
                           private delayed_retry,
                           private ack_by_callback,
                           public std::enable_shared_from_this<sqs_provider>
{
public:
    sqs_provider(std::shared_ptr<sqs_client> client, sqs_queue_options options)
        : client_(std::move(client)),
          options_(std::move(options)),
          parser_(sqs::response_parser_options{.verify_md5 = client_->internals().verify_md5,
                                               .max_body_bytes = client_->internals().aws.options().max_response_bytes})
    {
        if (options_.queue_url.empty())
            throw error(errc::bad_configuration, "SQS provider needs a queue_url");
        if (options_.wait_time < seconds(0) || options_.wait_time > seconds(20))
            throw error(errc::bad_configuration, "wait_time must be 0..20 s", {.queue = options_.queue_url});
        if (options_.visibility_timeout && (*options_.visibility_timeout <= seconds(0) ||
                                            *options_.visibility_timeout > seconds(max_visibility_seconds)))
            throw error(errc::bad_configuration, "visibility_timeout must be 1 s..12 h", {.queue = options_.queue_url});
        if (options_.visibility_timeout)
            visibility_ = *options_.visibility_timeout;
    }

    std::string name() const override { return options_.queue_url; }

    // Checks the queue before anything is received (a missing queue or permission fails
    // here, within seconds of start) and learns its visibility timeout.
    asio::awaitable<void> open(std::size_t) override
    {
        if (!deletes_)
            make_batchers(co_await asio::this_coro::executor);
        check_region();
        co_await read_queue_visibility();
        client_->internals().aws.options().log.log(
            log_level::info, {}, {}, "SQS queue {} at {} (region {}): visibility timeout {} s{}", options_.queue_url,
            client_->endpoint(), client_->region(), std::chrono::duration_cast<seconds>(visibility_).count(),
            options_.visibility_timeout ? " (set by the route)" : " (the queue's)");
    }

    asio::awaitable<std::vector<message>> receive(std::size_t max) override
    {
        if (!deletes_)
            make_batchers(co_await asio::this_coro::executor);
        auto& c = client_->internals();
        sqs::receive_message_request req;
        req.queue_url = options_.queue_url;
        req.max_messages = static_cast<int>(std::clamp<std::size_t>(max, 1, 10));
        req.wait_time_seconds = static_cast<int>(options_.wait_time.count());
        // Without an explicit value the queue's own visibility timeout applies.
        if (options_.visibility_timeout)
            req.visibility_timeout = static_cast<int>(options_.visibility_timeout->count());
        // A long poll must not time out before the server answers it.
        const auto timeout =
            std::chrono::duration_cast<milliseconds>(options_.wait_time) + seconds(5) + c.aws.options().request_timeout;
        const auto body = co_await c.call(req, options_.queue_url, timeout);
        auto result = parser_.parse_receive_message(body);
        for (const auto& r : result.rejected)
            c.aws.options().log.log(log_level::warning, {}, r.id,
                                    "received message rejected ({}); it stays in the queue and will be delivered "
                                    "again (or dead-lettered)",
                                    r.reason);
        unsettled_ += result.messages.size();
        co_return std::move(result.messages);
    }

    // Not coroutines: the batch completes the caller's own wait, so settling a message costs
    // no frame here. The batchers exist from `open` on; a message this provider did not
    // receive (another instance's) takes the longer way.
    asio::awaitable<void> ack(const message& msg) override
    {
        if (!deletes_)
            return with_batchers([this, &msg] { return ack(msg); });
        auto ticket = deletes_->enqueue(delete_entry{msg.id, msg.receipt});
        settled_one();
        return deletes_->wait(std::move(ticket));
    }

    asio::awaitable<void> release(const message& msg) override { return retry(msg, milliseconds::zero()); }

    asio::awaitable<void> close() override
    {
        if (deletes_)
            co_await deletes_->flush();
        if (visibility_batch_)
            co_await visibility_batch_->flush();
    }

    provider_capabilities capabilities() override
    {
        return {.visibility = this,
                .retry = this,
                .ack_callback = this,
                .redelivery = redelivery_info::exact_count,
                .receive_wait_at_stop = options_.wait_time};
    }

private:
    // The batch calls the listener: no coroutine waits per message.
    void start_ack(const message& msg, ack_listener& listener) override
    {
        deletes_->enqueue(delete_entry{msg.id, msg.receipt},
                          [&msg, &listener](std::exception_ptr error) { listener.acked(msg, std::move(error)); });
        settled_one();
    }

    asio::awaitable<void> retry(const message& msg, milliseconds delay) override
    {
        if (!visibility_batch_)
            return with_batchers([this, &msg, delay] { return retry(msg, delay); });
        auto ticket = visibility_batch_->enqueue(visibility_entry{msg.id, msg.receipt, delay_seconds(delay)});
        settled_one();
        return visibility_batch_->wait(std::move(ticket));
    }

    void leave(const message&) override { settled_one(); }

    asio::awaitable<void> extend(const message& msg, milliseconds extension) override
    {
        if (!visibility_batch_)
            return with_batchers([this, &msg, extension] { return extend(msg, extension); });
        return extend_and_check(msg, extension);
    }

    asio::awaitable<void> extend_and_check(const message& msg, milliseconds extension)
    {
        // Named before the co_await: GCC 12 miscompiles a braced temporary holding strings
        // inside a co_await expression (see the README's GCC 12 caveat).
        auto ticket = visibility_batch_->enqueue(visibility_entry{msg.id, msg.receipt, extension_seconds(extension)});
        try
        {
            co_await visibility_batch_->wait(std::move(ticket));
        }
        catch (const error& e)
        {
            // The queue's timeout may have changed since it was read: learn it again, so the
            // heartbeat's next extensions use it.
            if (!options_.visibility_timeout && e.code() != errc::stale_receipt && e.code() != errc::visibility_limit)
                refresh_visibility_later();
            throw;
        }
    }

    milliseconds visibility_timeout() const override { return visibility_; }
    milliseconds max_visibility() const override { return seconds(max_visibility_seconds); }

    // An AWS queue URL names its region; a client signing for another one is refused by
    // SQS with a confusing answer, so say it plainly. (Emulators' URLs are left alone.)
    void check_region() const
    {
        const auto host = queue_host(options_.queue_url);
        const auto endpoint_host = queue_host(client_->endpoint());
        constexpr std::string_view aws = ".amazonaws.com";
        if (!host.ends_with(aws) || !endpoint_host.ends_with(aws) || !host.starts_with("sqs."))
            return;
        const auto region = host.substr(4, host.size() - 4 - aws.size());
        if (region != client_->region())
            throw error(errc::bad_configuration,
                        fmt::format("the queue is in region {} but the client signs for {}: set AWS_REGION={} (or "
                                    "aws::client_options::region)",
                                    region, client_->region(), region),
                        {.queue = options_.queue_url});
    }

    static std::string_view queue_host(std::string_view url)
    {
        const auto scheme = url.find("://");
        if (scheme != std::string_view::npos)
            url.remove_prefix(scheme + 3);
        return url.substr(0, url.find_first_of(":/"));
    }

    asio::awaitable<void> read_queue_visibility()
    {
        const auto attributes = co_await client_->get_queue_attributes(options_.queue_url);
        if (options_.visibility_timeout)
            co_return; // checked; the route's own value applies
        const auto found = attributes.find("VisibilityTimeout");
        int value = 0;
        if (found == attributes.end() ||
            std::from_chars(found->second.data(), found->second.data() + found->second.size(), value).ec !=
                std::errc() ||
            value < 0 || value > max_visibility_seconds)
            throw error(errc::bad_response, "GetQueueAttributes gave no usable VisibilityTimeout",
                        {.action = "GetQueueAttributes", .queue = options_.queue_url});
        visibility_ = seconds(value);
    }

    void refresh_visibility_later()
    {
        if (refreshing_visibility_)
            return;
        refreshing_visibility_ = true;
        asio::co_spawn(
            strand_,
            [self = shared_from_this()]() -> asio::awaitable<void> {
                try
                {
                    co_await self->read_queue_visibility();
                }
                catch (...)
                {
                    // The extension's own failure was reported; the next one tries again.
                }
                self->refreshing_visibility_ = false;
            },
            asio::detached);
    }

private:
    // One more delivered message has been settled. When none is left with a handler, no
    // further ack or retry can join the open batches before the next receive: send them
    // now instead of waiting out the window (which would stall routes with few messages
    // in flight, since a message holds its slot until its ack is confirmed).
    void settled_one()
    {
        if (unsettled_ > 0)
            --unsettled_;
        if (unsettled_ == 0)
        {
            if (deletes_)
                deletes_->send_now();
            if (visibility_batch_)
                visibility_batch_->send_now();
        }
    }

    // The batchers live on the route's strand, which is known at the first call.
    void make_batchers(const asio::any_io_executor& strand)
    {
        strand_ = strand;
        deletes_.emplace(strand, client_->internals().aws.clock(), options_.batch_window,
                         [this](const std::vector<delete_entry>& e, std::vector<std::exception_ptr>& r) {
                             return send_deletes(e, r);
                         });
        visibility_batch_.emplace(strand, client_->internals().aws.clock(), options_.batch_window,
                                  [this](const std::vector<visibility_entry>& e, std::vector<std::exception_ptr>& r) {
                                      return send_visibility(e, r);
                                  });
    }

    template <class Settle> asio::awaitable<void> with_batchers(Settle settle)
    {
        if (!deletes_)
            make_batchers(co_await asio::this_coro::executor);
        co_await settle();
    }

    asio::awaitable<void> send_deletes(const std::vector<delete_entry>& entries,
                                       std::vector<std::exception_ptr>& results)
    {
        co_await entry_retries_.send(
            entries, results, "DeleteMessageBatch", options_.queue_url,
            [&](const std::vector<std::size_t>& pending) -> asio::awaitable<sqs::batch_result> {
                std::vector<sqs::delete_message_entry> batch;
                for (std::size_t i = 0; i < pending.size(); ++i)
                    batch.push_back({sqs::batch_entry_ids[i], entries[pending[i]].receipt});
                sqs::delete_message_batch_request req;
                req.queue_url = options_.queue_url;
                req.entries = batch;
                const auto body = co_await client_->internals().call(req, options_.queue_url);
                co_return parser_.parse_delete_message_batch(body);
            });
    }

    asio::awaitable<void> send_visibility(const std::vector<visibility_entry>& entries,
                                          std::vector<std::exception_ptr>& results)
    {
        co_await entry_retries_.send(
            entries, results, "ChangeMessageVisibilityBatch", options_.queue_url,
            [&](const std::vector<std::size_t>& pending) -> asio::awaitable<sqs::batch_result> {
                std::vector<sqs::change_message_visibility_entry> batch;
                for (std::size_t i = 0; i < pending.size(); ++i)
                    batch.push_back(
                        {sqs::batch_entry_ids[i], entries[pending[i]].receipt, entries[pending[i]].timeout_seconds});
                sqs::change_message_visibility_batch_request req;
                req.queue_url = options_.queue_url;
                req.entries = batch;
                const auto body = co_await client_->internals().call(req, options_.queue_url);
                co_return parser_.parse_change_message_visibility_batch(body);
            });
    }

    std::shared_ptr<sqs_client> client_;
    sqs_queue_options options_;
    sqs::response_parser parser_;
    sqs::entry_retrier entry_retries_{client_->internals().aws};
    std::optional<sqs::batcher<delete_entry>> deletes_;
    std::optional<sqs::batcher<visibility_entry>> visibility_batch_;
    std::size_t unsettled_ = 0;    // delivered, not yet acked, retried or left
    asio::any_io_executor strand_; // the route's, where the batchers live
    milliseconds visibility_{seconds(30)};
    bool refreshing_visibility_ = false;
};

class sqs_publisher final : public publisher
{
public:
    sqs_publisher(std::shared_ptr<sqs_client> client, std::string queue_url)
        : client_(std::move(client)),
          queue_url_(std::move(queue_url))
    {
    }

    asio::awaitable<std::string> publish(outgoing_message msg) override
    {
        co_return co_await client_->send(queue_url_, std::move(msg));
    }

private:
    std::shared_ptr<sqs_client> client_;
    std::string queue_url_;
};

} // namespace

std::shared_ptr<provider> make_sqs_provider(std::shared_ptr<sqs_client> client, sqs_queue_options options)
{
    if (!client)
        throw error(errc::bad_configuration, "make_sqs_provider needs a client", {.queue = options.queue_url});
    return std::make_shared<sqs_provider>(std::move(client), std::move(options));
}

std::shared_ptr<publisher> make_sqs_publisher(std::shared_ptr<sqs_client> client, std::string queue_url)
{
    if (!client)
        throw error(errc::bad_configuration, "make_sqs_publisher needs a client", {.queue = queue_url});
    return std::make_shared<sqs_publisher>(std::move(client), std::move(queue_url));
}

} // namespace courier
