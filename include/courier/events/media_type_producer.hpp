// The media-type producer, modelled on microcosm-pubsub's: each message goes to the
// destination of its media type and carries the media type as an attribute. A thin use of
// the event bus, keyed by media type.
#ifndef COURIER_EVENTS_MEDIA_TYPE_PRODUCER_HPP
#define COURIER_EVENTS_MEDIA_TYPE_PRODUCER_HPP

#include <courier/events/bus.hpp>
#include <courier/json_encode.hpp>
#include <courier/message.hpp>
#include <courier/publisher.hpp>

#include <boost/asio/awaitable.hpp>

#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace courier {

class sns_client;

/// Publishes JSON messages to the destination of their media type, as microcosm-pubsub's
/// producer does: each message goes to exactly one destination, chosen by its media type,
/// and carries the media type as the String attribute `media_type`, which consumers route
/// (`event_name_location::media_type_attribute()`) and SNS subscriptions filter on.
///
///     courier::media_type_producer producer({{"application/vnd.order.created", orders_publisher}});
///     const order_created event{...};
///     co_await producer.produce("application/vnd.order.created", event);
///
/// Thread safety: `produce` is safe from any thread (the destinations are fixed at
/// construction; the publishers' own rules apply).
class media_type_producer
{
public:
    /// The attribute carrying the media type.
    static constexpr std::string_view attribute_name = "media_type";

    /// `destinations` maps media types to publishers (any: SQS, SNS, memory, a broker);
    /// `fallback`, if set, takes the media types the map does not name. Throws
    /// `errc::bad_configuration` for a null publisher.
    explicit media_type_producer(std::map<std::string, std::shared_ptr<publisher>, std::less<>> destinations,
                                 std::shared_ptr<publisher> fallback = {});

    /// SNS topics by media type (ARNs, published through `client`); `default_topic`, if not
    /// empty, takes the media types the map does not name. Throws `errc::bad_configuration`
    /// if `client` is null or an ARN empty.
    media_type_producer(std::shared_ptr<sns_client> client, std::map<std::string, std::string, std::less<>> topics,
                        std::string default_topic = {});

    /// Whether `media_type` has a destination (its own, or the fallback).
    bool has_destination(std::string_view media_type) const noexcept { return bus_.has_destination(media_type); }

    /// Publishes `json_body` to the destination of `media_type`; returns the message id.
    /// `extra` attributes go along; a `media_type` among them is replaced by the real one.
    /// A media type without a destination throws `errc::bad_configuration` naming it.
    boost::asio::awaitable<std::string> produce(std::string media_type, std::string json_body,
                                                attribute_map extra = {}) const;

    /// Publishes `value` (a Boost.Describe struct) encoded with `courier::json_encode`. The
    /// encoding happens before the first suspension, so `value` need not outlive the call;
    /// but on GCC 12 do not write a braced temporary (`produce(t, order{...})`) inside the
    /// `co_await`: it is destroyed twice. Name it first.
    template <detail::described_struct T>
    boost::asio::awaitable<std::string> produce(std::string media_type, const T& value, attribute_map extra = {}) const
    {
        return produce(std::move(media_type), json_encode(value), std::move(extra));
    }

private:
    event_bus bus_;
};

} // namespace courier

#endif
