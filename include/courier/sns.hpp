// Amazon SNS, all of it: the envelope translators for queues subscribed to topics
// (sns/envelope.hpp), the client (sns/client.hpp), the one-topic publisher
// (sns/publisher.hpp) and the media-type producer (sns/media_type_producer.hpp).
#ifndef COURIER_SNS_HPP
#define COURIER_SNS_HPP

#include <courier/sns/client.hpp>
#include <courier/sns/envelope.hpp>
#include <courier/sns/media_type_producer.hpp>
#include <courier/sns/publisher.hpp>

#endif
