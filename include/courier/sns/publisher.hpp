// Publishing to one SNS topic through `courier::publisher`.
#ifndef COURIER_SNS_PUBLISHER_HPP
#define COURIER_SNS_PUBLISHER_HPP

#include <courier/publisher.hpp>
#include <courier/sns/client.hpp>

#include <memory>
#include <string>

namespace courier {

/// A publisher sending to one topic through `client`. An `outgoing_message`'s delay is
/// refused (`errc::bad_configuration`): SNS has no delivery delay.
std::shared_ptr<publisher> make_sns_publisher(std::shared_ptr<sns_client> client, std::string topic_arn);

} // namespace courier

#endif
