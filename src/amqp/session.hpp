// The AMQP 0-9-1 client connection and its channels as a state machine without I/O:
// commands in, frames out; bytes in, events out.
//
// The connection coroutine (amqp/connection.cpp) owns the socket and the timers. It calls
// `start()`, writes whatever `output()` holds, hands every byte it reads to `on_bytes()`,
// and acts on the events. The session does the handshake by itself (protocol header,
// start/start-ok with SASL PLAIN, tune/tune-ok with negotiated channel_max, frame_max and
// heartbeat, open/open-ok), answers what needs no decision (close-ok for a server's close,
// channel.flow-ok, cancel-ok), assembles deliveries and returns from their method, content
// header and body frames, and resolves publisher confirms (`multiple` and out-of-order).
//
// A connection.close from the broker, or anything the session cannot accept (a malformed
// frame, content out of sequence, a frame for a channel that is not open) ends the session:
// state `failed` and one `error_event`; on a protocol fault the session queues a
// connection.close with the fitting reply code first, so the broker learns why. A
// channel.close from the broker ends that channel only (`channel_closed_event` with the
// broker's reply, e.g. 404 NOT_FOUND for a missing queue).
#ifndef COURIER_SRC_AMQP_SESSION_HPP
#define COURIER_SRC_AMQP_SESSION_HPP

#include "amqp/frame.hpp"
#include "amqp/methods.hpp"
#include "broker/event_queue.hpp"
#include "courier/error.hpp"

#include <chrono>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

namespace courier::amqp {

struct session_options
{
    std::string login = "guest";
    std::string passcode = "guest";
    std::string virtual_host = "/";
    /// Heartbeat we ask for; the broker's wins when one side says 0, the smaller otherwise.
    std::chrono::seconds heartbeat{10};
    /// Largest frame we accept (and offer); the smaller of ours and the broker's wins.
    std::uint32_t frame_max = 131072;
    std::uint16_t channel_max = 2047;
    /// Shown in the broker's management UI (client property connection_name).
    std::string connection_name;
};

enum class session_state
{
    idle,      ///< before start()
    handshake, ///< protocol header sent; start, tune, open in progress
    open,      ///< connection.open-ok received
    closing,   ///< we sent connection.close
    closed,    ///< the broker answered our close
    failed,    ///< the broker closed the connection, or a protocol fault
};

/// connection.open-ok: usable. The negotiated parameters.
struct opened_event
{
    std::chrono::seconds heartbeat{0};
    std::uint32_t frame_max = 0;
    std::uint16_t channel_max = 0;
    std::string server_product, server_version;
};

struct channel_opened_event
{
    std::uint16_t channel = 0;
};
/// A synchronous reply (declare-ok, bind-ok, qos-ok, consume-ok, cancel-ok, select-ok).
struct method_ok_event
{
    std::uint16_t channel = 0;
    server_method reply;
};
struct delivery_event
{
    std::uint16_t channel = 0;
    method::basic_deliver deliver;
    properties props;
    std::string body;
};
/// A mandatory message the broker could not route (it comes before the publish's confirm).
struct return_event
{
    std::uint16_t channel = 0;
    method::basic_return returned;
    properties props;
    std::string body;
};
/// The broker's confirm of publish number `sequence` (the value `publish` returned).
struct confirm_event
{
    std::uint16_t channel = 0;
    std::uint64_t sequence = 0;
    bool ack = true;
};
/// basic.cancel from the broker: the consumer is gone (its queue was deleted, ...).
struct consumer_cancelled_event
{
    std::uint16_t channel = 0;
    std::string consumer_tag;
};
/// The channel ended: the broker closed it (`error` says why) or answered our close.
struct channel_closed_event
{
    std::uint16_t channel = 0;
    std::optional<courier::error> error;
};
struct blocked_event
{
    std::string reason;
};
struct unblocked_event
{
};
/// The connection failed; close the socket.
struct error_event
{
    courier::error error;
};
/// The broker answered our connection.close; close the socket.
struct closed_event
{
};

using session_event = std::variant<opened_event, channel_opened_event, method_ok_event, delivery_event, return_event,
                                   confirm_event, consumer_cancelled_event, channel_closed_event, blocked_event,
                                   unblocked_event, error_event, closed_event>;

/// Maps a reply code of connection.close or channel.close to a courier error.
courier::error close_error(const method::close& c, bool connection);

/// One AMQP 0-9-1 client connection.
///
/// \par Thread safety
/// Distinct objects: safe. Shared objects: unsafe.
class session
{
public:
    explicit session(session_options options);

    session_state state() const noexcept { return state_; }
    /// Negotiated frame_max (ours until tune).
    std::uint32_t frame_max() const noexcept { return frame_max_; }

    /// Queues the protocol header. Only in `idle`.
    void start();
    /// Queues connection.close (200). Only when open.
    void close();

    // Channel commands: the channel must be open (open_channel: not open yet). Each queues
    // its frames; synchronous ones are answered by a method_ok_event (or channel_closed_event).
    void open_channel(std::uint16_t channel);
    void close_channel(std::uint16_t channel);
    void declare_exchange(std::uint16_t channel, const exchange_declare_args& a);
    void declare_queue(std::uint16_t channel, const queue_declare_args& a);
    void bind_queue(std::uint16_t channel, std::string_view queue, std::string_view exchange,
                    std::string_view routing_key, const field_table& arguments = {});
    void qos(std::uint16_t channel, std::uint16_t prefetch_count);
    void consume(std::uint16_t channel, std::string_view queue, std::string_view consumer_tag,
                 const field_table& arguments = {});
    void cancel(std::uint16_t channel, std::string_view consumer_tag);
    /// Acknowledges one delivery; its basic.ack is written by the next `write_acks()`. There,
    /// the run of the channel's deliveries settled from its oldest unsettled one goes as one
    /// basic.ack with `multiple` set, and the acks after a delivery still unsettled go one
    /// by one: a broker spends less per message on one frame than on many, and so does the
    /// loopback (AMQP's cumulative ack is why this is worth its bookkeeping).
    void ack(std::uint16_t channel, std::uint64_t delivery_tag);
    /// Writes the acks `ack` queued into `output()`; the connection's writer calls it before
    /// it takes the output.
    void write_acks();
    /// A nack or reject writes the channel's queued acks first, so every frame keeps the order
    /// of the calls.
    void nack(std::uint16_t channel, std::uint64_t delivery_tag, bool multiple, bool requeue);
    void reject(std::uint16_t channel, std::uint64_t delivery_tag, bool requeue);
    /// Puts the channel in confirm mode; publishes count from 1 after this.
    void confirm_select(std::uint16_t channel);
    /// Queues basic.publish, header and body frames. Returns the publish's sequence number
    /// in confirm mode (its confirm_event carries it), 0 otherwise.
    std::uint64_t publish(std::uint16_t channel, std::string_view exchange, std::string_view routing_key,
                          bool mandatory, const properties& props, std::string_view body);
    void heartbeat() { append_heartbeat(output_); }

    /// True if `channel` is open (opened and not closed since).
    bool channel_open(std::uint16_t channel) const noexcept;

    /// Decodes received bytes into events. Never throws; see the file comment.
    void on_bytes(std::string_view bytes);
    std::optional<session_event> poll_event();
    std::string& output() noexcept { return output_; }

private:
    struct content
    {
        std::variant<method::basic_deliver, method::basic_return> method;
        bool have_header = false;
        std::uint64_t body_size = 0;
        properties props;
        std::string body;
    };
    struct channel_state
    {
        bool open = false;
        bool closing = false;
        bool confirming = false;
        std::uint64_t next_sequence = 1;
        std::set<std::uint64_t> unconfirmed;
        std::optional<content> pending;
        // Settlement of this opening's deliveries (tags count from 1 per opening): every tag
        // below `unsettled_from` is settled, `settled_ahead[i]` says whether tag
        // `unsettled_from + i` is, and `acks_to_write` were acked and not written yet. Once
        // one delivery stays unsettled for longer than `max_settled_ahead` later ones (a
        // handler that hangs), the channel stops tracking and acks one by one.
        static constexpr std::size_t max_settled_ahead = 65536;
        bool tracking = true;
        std::uint64_t unsettled_from = 1;
        std::deque<bool> settled_ahead;
        std::vector<std::uint64_t> acks_to_write;
    };

    void handle(const frame_view& f);
    void handle_connection_method(server_method&& m);
    void handle_channel_method(std::uint16_t ch, channel_state& c, server_method&& m);
    void handle_content(std::uint16_t ch, channel_state& c, const frame_view& f);
    void confirm(std::uint16_t ch, channel_state& c, std::uint64_t tag, bool multiple, bool ack);
    void write_acks(std::uint16_t ch, channel_state& c);
    /// Marks the deliveries from `first` to `last` settled; `unsettled_from` moves past any run
    /// this completes.
    static void settle(channel_state& c, std::uint64_t first, std::uint64_t last);
    channel_state& require_open(std::uint16_t channel, const char* what);
    /// A fault of the broker: tell it (connection.close with `code`) and fail.
    void protocol_fault(std::uint16_t code, const std::string& text);
    void fail(courier::error e);

    session_options options_;
    session_state state_ = session_state::idle;
    frame_decoder decoder_;
    std::string output_;
    broker::event_queue<session_event> events_;
    std::map<std::uint16_t, channel_state> channels_;
    std::uint32_t frame_max_;
    std::uint16_t channel_max_;
    std::chrono::seconds heartbeat_{0};
    std::string server_product_, server_version_;
};

} // namespace courier::amqp

#endif
