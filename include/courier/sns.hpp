// Amazon SNS, all of it: the envelope translators for queues subscribed to topics
// (sns/envelope.hpp), the client (sns/client.hpp), the one-topic publisher
// (sns/publisher.hpp) and the media-type producer (events/media_type_producer.hpp), which
// publishes to SNS topics as to any publisher.
#ifndef COURIER_SNS_HPP
#define COURIER_SNS_HPP

#include <courier/events/media_type_producer.hpp>
#include <courier/sns/client.hpp>
#include <courier/sns/envelope.hpp>
#include <courier/sns/publisher.hpp>

#endif
