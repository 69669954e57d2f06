// The inside of `courier::sqs_client`: SQS's JSON 1.0 protocol over the shared signed
// AWS client.
#ifndef COURIER_SRC_SQS_CLIENT_IMPL_HPP
#define COURIER_SRC_SQS_CLIENT_IMPL_HPP

#include "aws/signed_client.hpp"
#include "sqs/protocol.hpp"

#include <courier/sqs.hpp>

namespace courier {

struct sqs_client::impl
{
    impl(boost::asio::any_io_executor executor, sqs_client_options options);

    /// Sends one request and returns the body of its 200 answer. Throws `courier::error`
    /// (the server's error, or what failed on the way) after the last attempt.
    template <class Request>
    boost::asio::awaitable<std::string> call(const Request& request, std::string_view queue,
                                             std::chrono::milliseconds timeout)
    {
        aws::service_request r{.action = Request::action,
                               .resource = queue,
                               .content_type = sqs::content_type,
                               .target = Request::target,
                               .body = {}};
        sqs::render(request, r.body);
        return aws.call(std::move(r), timeout);
    }

    template <class Request> boost::asio::awaitable<std::string> call(const Request& request, std::string_view queue)
    {
        return call(request, queue, aws.options().request_timeout);
    }

    bool verify_md5;
    aws::signed_client aws;
};

} // namespace courier

#endif
