// STOMP 1.2 frames without any I/O: the frame value, its encoder and an incremental decoder.
//
// A frame is a command line, header lines and a body closed by a NUL octet. Header names and
// values are escaped (`\r`, `\n`, `\c` for a colon, `\\`) in every frame except CONNECT and
// CONNECTED, which keep them raw for 1.0 servers (STOMP 1.2, "Value Encoding"). A body is
// either `content-length` octets (it may then hold NULs) or everything up to the first NUL.
// Between frames, a lone end-of-line (LF or CRLF) is a heart-beat.
//
// The decoder takes bytes as they come off the socket, in pieces of any size, and yields
// whole frames and heart-beats. It refuses what it cannot trust with a `courier::error`
// (errc::bad_response) naming the fault: a header section or body over its limit, a bad
// escape, a malformed content-length, a missing NUL after a content-length body. After an
// error the stream is unusable (a STOMP stream has no resynchronisation point), and the
// connection that owns it must be closed.
#ifndef COURIER_SRC_STOMP_FRAME_HPP
#define COURIER_SRC_STOMP_FRAME_HPP

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace courier::stomp {

/// Header lines in their order on the wire. Repeated names are kept; the first one counts
/// (STOMP 1.2, "Repeated Header Entries").
using header_list = std::vector<std::pair<std::string, std::string>>;

/// One STOMP frame, headers unescaped.
struct frame
{
    std::string command;
    header_list headers;
    std::string body;

    /// The value of the first header called `name` (case-sensitive, as STOMP is), or empty.
    std::string_view header(std::string_view name) const noexcept;
    /// True if a header called `name` is present (even with an empty value).
    bool has_header(std::string_view name) const noexcept;
    /// Moves the value of the first header called `name` out (the header stays, empty); empty
    /// if there is none.
    std::string take_header(std::string_view name) noexcept;
};

/// True for the two commands whose headers are never escaped.
bool is_unescaped_command(std::string_view command) noexcept;

/// Appends `f` to `out` as it goes on the wire. A `content-length` header is added when the
/// body is not empty and none is given, so bodies may hold NULs. Throws `courier::error`
/// (errc::bad_configuration) if the command is empty or holds a control character, or if a
/// CONNECT/CONNECTED header holds a colon, CR or LF, which that frame cannot carry.
void encode(const frame& f, std::string& out);

/// The bytes of `f` (see the other overload).
std::string encode(const frame& f);

/// Appends a frame without a body from views of its command and headers, which are escaped
/// (so not CONNECT or CONNECTED): ACK and NACK go out once per message, with no `frame`
/// built for them.
void encode(std::string_view command, std::initializer_list<std::pair<std::string_view, std::string_view>> headers,
            std::string& out);

/// What a decoder accepts. Defaults suit brokers; each limit bounds memory per connection.
struct decoder_limits
{
    /// Longest command line plus header lines, in octets, escapes included. Default 64 KiB.
    std::size_t max_header_bytes = 64u << 10;
    /// Most header lines in one frame. Default 256.
    std::size_t max_headers = 256;
    /// Largest body, in octets. Default 16 MiB.
    std::size_t max_body_bytes = 16u << 20;
};

/// An incremental STOMP 1.2 frame decoder.
///
/// Feed it bytes with `feed`, then call `next` until it answers `need_more`.
///
/// \par Thread safety
/// Distinct objects: safe. Shared objects: unsafe.
class decoder
{
public:
    enum class result
    {
        need_more, ///< no whole frame buffered
        frame,     ///< a frame was decoded into the argument
        heartbeat, ///< a lone EOL between frames
    };

    explicit decoder(decoder_limits limits = {});

    /// Appends received bytes.
    void feed(std::string_view bytes);

    /// Decodes the next frame or heart-beat from the buffered bytes. On `result::frame`, `out`
    /// is overwritten. Throws `courier::error` (errc::bad_response) for a malformed or
    /// oversized frame; the decoder must not be used again then.
    result next(frame& out);

    /// Bytes buffered but not yet decoded.
    std::size_t buffered() const noexcept { return buffer_.size() - start_; }

private:
    void parse_headers(frame& out, std::size_t header_end);

    decoder_limits limits_;
    std::string buffer_;
    std::size_t start_ = 0; // first byte of the frame being decoded
    // How far a previous call scanned for the end of the header section (or for the body's
    // NUL), so a frame arriving in many small pieces is not rescanned from its start.
    std::size_t scanned_ = 0;
    // Once the headers of the pending frame are decoded: the frame, and where its body starts.
    bool have_headers_ = false;
    std::size_t body_start_ = 0;
    std::size_t content_length_ = 0;
    bool has_content_length_ = false;
    frame pending_;
};

} // namespace courier::stomp

#endif
