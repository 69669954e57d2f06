// courier::sqs_client: SQS error reading, and the producer and queue-management actions
// over the shared signed AWS client.
#include "sqs/client_impl.hpp"

#include <courier/error.hpp>

namespace asio = boost::asio;
using std::chrono::milliseconds;

namespace courier {

namespace {

aws::failed_answer read_sqs_error(const http::response& resp, const aws::service_request& request)
{
    const auto parsed =
        sqs::parse_error_response(static_cast<int>(resp.status), resp.header("x-amzn-query-error"), resp.body);
    // The query code is read too: SQS in query-compatible mode may name the error there only.
    auto auth = aws::classify_auth_refusal(parsed.code, parsed.message);
    if (auth == aws::auth_refusal::none)
        auth = aws::classify_auth_refusal(parsed.query_code, parsed.message);
    return {sqs::make_error(parsed, request.action, request.resource), parsed.retryable, parsed.throttling, auth};
}

} // namespace

sqs_client::impl::impl(asio::any_io_executor executor, sqs_client_options options)
    : verify_md5(options.verify_md5),
      aws(std::move(executor), std::move(options.aws), {"sqs", "SQS", "sqs"}, &read_sqs_error)
{
}

// ---- the public client ---------------------------------------------------------------

namespace {

// Builds the protocol's view of a message; it points into `m`, which must outlive the
// rendering.
sqs::send_message_entry entry_of(const outgoing_message& m, std::string_view id)
{
    sqs::send_message_entry e;
    e.id = id;
    e.body = m.body;
    if (m.delay > milliseconds::zero())
        e.delay_seconds = static_cast<int>(std::chrono::ceil<std::chrono::seconds>(m.delay).count());
    e.attributes = m.attributes.empty() ? nullptr : &m.attributes;
    e.group_id = m.group_id;
    e.deduplication_id = m.deduplication_id;
    return e;
}

// The client's own parses run on the caller's thread after the call returned; one parser
// per thread keeps them independent (the parser is not thread-safe).
sqs::response_parser& local_parser(bool verify_md5)
{
    thread_local sqs::response_parser checked(sqs::response_parser_options{.verify_md5 = true});
    thread_local sqs::response_parser unchecked(sqs::response_parser_options{.verify_md5 = false});
    return verify_md5 ? checked : unchecked;
}

} // namespace

sqs_client::sqs_client(asio::any_io_executor executor, sqs_client_options options)
    : impl_(std::make_unique<impl>(std::move(executor), std::move(options)))
{
}

sqs_client::~sqs_client() = default;

const std::string& sqs_client::endpoint() const noexcept
{
    return impl_->aws.endpoint();
}
const std::string& sqs_client::region() const noexcept
{
    return impl_->aws.region();
}
std::uint64_t sqs_client::requests_sent() const noexcept
{
    return impl_->aws.attempts_sent();
}

asio::awaitable<std::string> sqs_client::send(std::string queue_url, outgoing_message msg)
{
    const auto entry = entry_of(msg, {});
    sqs::send_message_request req;
    req.queue_url = queue_url;
    req.body = entry.body;
    req.delay_seconds = entry.delay_seconds;
    req.attributes = entry.attributes;
    req.group_id = entry.group_id;
    req.deduplication_id = entry.deduplication_id;
    const auto body = co_await impl_->call(req, queue_url);
    co_return local_parser(impl_->verify_md5).parse_send_message(body, req).message_id;
}

asio::awaitable<std::vector<std::string>> sqs_client::send_batch(std::string queue_url,
                                                                 std::vector<outgoing_message> msgs)
{
    if (msgs.empty() || msgs.size() > 10)
        throw error(errc::bad_configuration, "send_batch takes 1 to 10 messages",
                    {.action = "SendMessageBatch", .queue = queue_url});
    std::vector<sqs::send_message_entry> entries;
    for (std::size_t i = 0; i < msgs.size(); ++i)
        entries.push_back(entry_of(msgs[i], sqs::batch_entry_ids[i]));
    sqs::send_message_batch_request req;
    req.queue_url = queue_url;
    req.entries = entries;
    const auto body = co_await impl_->call(req, queue_url);
    const auto result = local_parser(impl_->verify_md5).parse_send_message_batch(body, req);
    if (!result.failed.empty())
    {
        std::string text =
            std::to_string(result.failed.size()) + " of " + std::to_string(msgs.size()) + " messages were not sent:";
        for (const auto& f : result.failed)
            text += " [" + f.id + "] " + f.code + ": " + f.message + ";";
        throw error(errc::server_error, text, {.action = "SendMessageBatch", .queue = queue_url});
    }
    std::vector<std::string> out(msgs.size());
    for (const auto& s : result.successful)
        out.at(std::stoul(s.id)) = s.message_id;
    co_return out;
}

asio::awaitable<std::string> sqs_client::create_queue(std::string name, queue_attributes attributes)
{
    std::vector<sqs::queue_attribute> attrs;
    for (const auto& [k, v] : attributes)
        attrs.push_back({k, v});
    sqs::create_queue_request req;
    req.queue_name = name;
    req.attributes = attrs;
    const auto body = co_await impl_->call(req, name);
    co_return local_parser(impl_->verify_md5).parse_create_queue(body);
}

asio::awaitable<std::string> sqs_client::get_queue_url(std::string name)
{
    sqs::get_queue_url_request req;
    req.queue_name = name;
    const auto body = co_await impl_->call(req, name);
    co_return local_parser(impl_->verify_md5).parse_get_queue_url(body);
}

asio::awaitable<queue_attributes> sqs_client::get_queue_attributes(std::string queue_url)
{
    sqs::get_queue_attributes_request req;
    req.queue_url = queue_url;
    const auto body = co_await impl_->call(req, queue_url);
    auto parsed = local_parser(impl_->verify_md5).parse_get_queue_attributes(body);
    co_return queue_attributes(parsed.begin(), parsed.end());
}

asio::awaitable<void> sqs_client::delete_queue(std::string queue_url)
{
    sqs::delete_queue_request req;
    req.queue_url = queue_url;
    co_await impl_->call(req, queue_url);
}

asio::awaitable<void> sqs_client::purge_queue(std::string queue_url)
{
    sqs::purge_queue_request req;
    req.queue_url = queue_url;
    co_await impl_->call(req, queue_url);
}

} // namespace courier
