// The media-type producer, modelled on microcosm-pubsub's: each message goes to the SNS
// topic of its media type and carries the media type as an attribute.
#ifndef COURIER_SNS_MEDIA_TYPE_PRODUCER_HPP
#define COURIER_SNS_MEDIA_TYPE_PRODUCER_HPP

#include <courier/json_encode.hpp>
#include <courier/message.hpp>
#include <courier/sns/client.hpp>

#include <boost/asio/awaitable.hpp>

#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace courier {

/// Publishes JSON messages to the topic of their media type, as microcosm-pubsub's producer
/// does: each message goes to exactly one topic, chosen by its media type, and carries the
/// media type as the String attribute `media_type`, which consumers route and filter on.
///
///     courier::media_type_producer producer(sns, {{"application/vnd.order.created", orders_arn}});
///     const order_created event{...};
///     co_await producer.produce("application/vnd.order.created", event);
///
/// Thread safety: `produce` is safe from any thread (the topic map is fixed at construction).
class media_type_producer
{
public:
    /// The attribute carrying the media type.
    static constexpr std::string_view attribute_name = "media_type";

    /// `topics` maps media types to topic ARNs; `default_topic`, if not empty, takes the
    /// media types the map does not name. Throws `errc::bad_configuration` if `client` is
    /// null.
    media_type_producer(std::shared_ptr<sns_client> client, std::map<std::string, std::string, std::less<>> topics,
                        std::string default_topic = {});

    /// The topic ARN for `media_type`. Throws `courier::error` (`errc::bad_configuration`)
    /// naming the media type if there is none.
    const std::string& topic_for(std::string_view media_type) const;

    /// Publishes `json_body` to the topic for `media_type`; returns the MessageId. `extra`
    /// attributes go along; a `media_type` among them is replaced by the real one.
    boost::asio::awaitable<std::string> produce(std::string media_type, std::string json_body,
                                                attribute_map extra = {});

    /// Publishes `value` (a Boost.Describe struct) encoded with `courier::json_encode`. The
    /// encoding happens before the first suspension, so `value` need not outlive the call;
    /// but on GCC 12 do not write a braced temporary (`produce(t, order{...})`) inside the
    /// `co_await`: it is destroyed twice (see `sns_message`). Name it first.
    template <detail::described_struct T>
    boost::asio::awaitable<std::string> produce(std::string media_type, const T& value, attribute_map extra = {})
    {
        return produce(std::move(media_type), json_encode(value), std::move(extra));
    }

private:
    std::shared_ptr<sns_client> client_;
    std::map<std::string, std::string, std::less<>> topics_;
    std::string default_topic_;
};

} // namespace courier

#endif
