// What a scripted HTTP server in a test sees of a request, and what it answers: shared by
// the loopback server (loopback_http_server.hpp) and the in-memory transport
// (memory_transport.hpp). No Beast here.
#ifndef COURIER_TESTS_SCRIPTED_HTTP_HPP
#define COURIER_TESTS_SCRIPTED_HTTP_HPP

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace courier_test {

struct seen_request
{
    std::string method;
    std::string target;
    std::string body;
    std::map<std::string, std::string> headers; // lower-case names
    std::string header(const std::string& name) const
    {
        const auto it = headers.find(name);
        return it == headers.end() ? std::string() : it->second;
    }
};

// The request's AWS action ("AmazonSQS.DeleteMessageBatch" in X-Amz-Target gives
// "DeleteMessageBatch"); without X-Amz-Target, "METHOD target".
inline std::string aws_action(const seen_request& r)
{
    const std::string target = r.header("x-amz-target");
    if (target.empty())
        return r.method + " " + r.target;
    const auto dot = target.find('.');
    return dot == std::string::npos ? target : target.substr(dot + 1);
}

// What a scripted SQS answers to GetQueueAttributes, the provider's start-up check: a queue
// with a 30 s visibility timeout.
inline constexpr std::string_view sqs_queue_attributes = R"({"Attributes":{"VisibilityTimeout":"30"}})";

struct reply
{
    unsigned status = 200;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers{}; ///< besides Content-Length
};

} // namespace courier_test

#endif
