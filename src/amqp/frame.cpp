// AMQP 0-9-1 frame encoding and the incremental decoder (see frame.hpp).
#include "amqp/frame.hpp"

#include "amqp/wire.hpp"
#include "courier/error.hpp"

namespace courier::amqp {

std::size_t begin_frame(std::string& out, frame_type type, std::uint16_t channel)
{
    const std::size_t start = out.size();
    put_u8(out, static_cast<std::uint8_t>(type));
    put_u16(out, channel);
    put_u32(out, 0);
    return start;
}

void end_frame(std::string& out, std::size_t start)
{
    const auto size = static_cast<std::uint32_t>(out.size() - start - 7);
    for (int i = 0; i < 4; ++i)
        out[start + 3 + static_cast<std::size_t>(i)] = static_cast<char>((size >> (24 - 8 * i)) & 0xff);
    put_u8(out, frame_end);
}

void append_heartbeat(std::string& out)
{
    end_frame(out, begin_frame(out, frame_type::heartbeat, 0));
}

void frame_decoder::feed(std::string_view bytes)
{
    if (start_ > 0 && (start_ == buffer_.size() || start_ >= buffer_.size() - start_))
    {
        buffer_.erase(0, start_);
        start_ = 0;
    }
    buffer_.append(bytes);
}

std::optional<frame_view> frame_decoder::next()
{
    const std::string_view data = std::string_view(buffer_).substr(start_);
    if (first_ && !data.empty() && data[0] == 'A')
    {
        // The server did not accept our protocol header and sent the one it speaks.
        if (data.size() < protocol_header.size())
            return std::nullopt;
        auto digit = [&](std::size_t i) { return std::to_string(static_cast<unsigned char>(data[i])); };
        throw error(errc::bad_response, "the server does not speak AMQP 0-9-1: it answered with protocol header " +
                                            std::string(data.substr(0, 4)) + " " + digit(4) + "-" + digit(5) + "-" +
                                            digit(6) + "-" + digit(7));
    }
    if (data.size() < 7)
        return std::nullopt;
    reader r(data);
    const auto type = r.u8("a frame header");
    const auto channel = r.u16("a frame header");
    const auto size = r.u32("a frame header");
    if (type != 1 && type != 2 && type != 3 && type != 8)
        throw error(errc::bad_response, "unknown AMQP frame type " + std::to_string(type));
    if (static_cast<std::size_t>(size) + frame_overhead > max_frame_)
        throw error(errc::bad_response, "AMQP frame of " + std::to_string(size + frame_overhead) +
                                            " octets is larger than frame_max " + std::to_string(max_frame_));
    if (data.size() < size + frame_overhead)
        return std::nullopt;
    if (static_cast<std::uint8_t>(data[7 + size]) != frame_end)
        throw error(errc::bad_response, "AMQP frame does not end with 0xCE (channel " + std::to_string(channel) +
                                            ", type " + std::to_string(type) + ")");
    first_ = false;
    start_ += size + frame_overhead;
    return frame_view{static_cast<frame_type>(type), channel, data.substr(7, size)};
}

} // namespace courier::amqp
