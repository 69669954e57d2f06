// Publishing to one SQS queue through `courier::publisher`.
#ifndef COURIER_SQS_PUBLISHER_HPP
#define COURIER_SQS_PUBLISHER_HPP

#include <courier/publisher.hpp>
#include <courier/sqs/client.hpp>

#include <memory>
#include <string>

namespace courier {

/// A publisher sending to one queue through `client`.
std::shared_ptr<publisher> make_sqs_publisher(std::shared_ptr<sqs_client> client, std::string queue_url);

} // namespace courier

#endif
