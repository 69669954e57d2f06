// The media-type producer over the event bus (the SNS constructor is in src/sns/client.cpp).
#include <courier/error.hpp>
#include <courier/events/media_type_producer.hpp>

#include <fmt/format.h>

namespace courier {

media_type_producer::media_type_producer(std::map<std::string, std::shared_ptr<publisher>, std::less<>> destinations,
                                         std::shared_ptr<publisher> fallback)
    : bus_(event_name_location::media_type_attribute())
{
    for (auto& [media_type, destination] : destinations)
    {
        if (!destination)
            throw error(errc::bad_configuration,
                        fmt::format("media_type_producer: media type '{}' has no publisher", media_type));
        bus_.send_to(media_type, std::move(destination));
    }
    if (fallback)
        bus_.send_others_to(std::move(fallback));
}

boost::asio::awaitable<std::string> media_type_producer::produce(std::string media_type, std::string json_body,
                                                                 attribute_map extra) const
{
    if (media_type.empty())
        throw error(errc::bad_configuration, "media_type_producer: the media type must not be empty");
    const event_descriptor event{.name = media_type, .media_type = media_type};
    return bus_.send_json(event, std::move(json_body), std::move(extra));
}

} // namespace courier
