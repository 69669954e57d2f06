// AMQP 0-9-1 frames without any I/O: the protocol header, frame encoding, and an
// incremental frame decoder.
//
// A frame is type (1 method, 2 content header, 3 content body, 8 heartbeat), channel
// (16 bits), payload size (32 bits), payload, and the frame-end octet 0xCE. The decoder
// takes bytes in pieces of any size and yields frames whose payload views its buffer. It
// refuses a frame larger than the negotiated frame_max, a wrong frame-end octet and an
// unknown frame type, with a `courier::error` (errc::bad_response); a server that answers
// our protocol header with its own (it speaks another AMQP version) is reported as such.
#ifndef COURIER_SRC_AMQP_FRAME_HPP
#define COURIER_SRC_AMQP_FRAME_HPP

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace courier::amqp {

/// What a client sends first: "AMQP" 0 0 9 1.
inline constexpr std::string_view protocol_header{"AMQP\0\0\x09\x01", 8};

enum class frame_type : std::uint8_t
{
    method = 1,
    header = 2,
    body = 3,
    heartbeat = 8,
};

/// Octets a frame adds around its payload: 7 of header, 1 frame-end.
inline constexpr std::size_t frame_overhead = 8;
inline constexpr std::uint8_t frame_end = 0xCE;

/// A decoded frame; `payload` views the decoder's buffer until its next `feed`.
struct frame_view
{
    frame_type type{};
    std::uint16_t channel = 0;
    std::string_view payload;
};

/// Starts a frame in `out` and returns where it begins; write the payload, then `end_frame`.
std::size_t begin_frame(std::string& out, frame_type type, std::uint16_t channel);
/// Fills in the payload size of the frame begun at `start` and appends the frame-end octet.
void end_frame(std::string& out, std::size_t start);
/// A heartbeat frame (channel 0, empty payload).
void append_heartbeat(std::string& out);

/// An incremental frame decoder.
///
/// \par Thread safety
/// Distinct objects: safe. Shared objects: unsafe.
class frame_decoder
{
public:
    /// `max_frame_size` bounds whole frames (header and frame-end included), as frame_max does.
    explicit frame_decoder(std::size_t max_frame_size = 131072)
        : max_frame_(max_frame_size)
    {
    }

    /// After connection.tune: the negotiated frame_max (0 means no limit from the server;
    /// the decoder then keeps its own).
    void set_max_frame_size(std::size_t size) noexcept
    {
        if (size != 0)
            max_frame_ = size;
    }
    std::size_t max_frame_size() const noexcept { return max_frame_; }

    void feed(std::string_view bytes);

    /// The next whole frame, or nullopt when more bytes are needed. Throws `courier::error`
    /// (errc::bad_response) for a malformed stream; the decoder must not be used again then.
    std::optional<frame_view> next();

    std::size_t buffered() const noexcept { return buffer_.size() - start_; }

private:
    std::size_t max_frame_;
    std::string buffer_;
    std::size_t start_ = 0;
    bool first_ = true; // nothing decoded yet: a protocol header may come instead of a frame
};

} // namespace courier::amqp

#endif
