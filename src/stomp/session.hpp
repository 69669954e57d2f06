// The STOMP 1.2 client as a state machine without I/O: commands in, frames out; bytes in,
// events out.
//
// The connection coroutine (stomp/connection.cpp) owns the socket and the timers. It calls
// `connect()`, writes whatever `output()` holds, hands every byte it reads to `on_bytes()`,
// and acts on the events `poll_event()` yields: CONNECTED with the negotiated heart-beats,
// MESSAGE, RECEIPT (a SEND confirmed, or the end of DISCONNECT), and errors. An ERROR frame
// from the broker, a malformed frame, or a frame out of place ends the session: state
// `failed` and one `error_event` carrying a `courier::error` with the server's message. The
// broker closes the connection after an ERROR, and so must the driver.
//
// Heart-beats are negotiated here (STOMP 1.2, "Heart-beating"); keeping time is the driver's.
#ifndef COURIER_SRC_STOMP_SESSION_HPP
#define COURIER_SRC_STOMP_SESSION_HPP

#include "broker/event_queue.hpp"
#include "courier/error.hpp"
#include "stomp/frame.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace courier::stomp {

/// What a session announces in CONNECT.
struct session_options
{
    std::string login;
    std::string passcode;
    /// The `host` header: the virtual host ("/" is RabbitMQ's default).
    std::string host = "/";
    /// Heart-beats we offer to send (cx) and ask to receive (cy); 0 = none.
    std::chrono::milliseconds heartbeat_send{10'000};
    std::chrono::milliseconds heartbeat_receive{10'000};
    decoder_limits limits{};
};

enum class session_state
{
    idle,          ///< before connect()
    connecting,    ///< CONNECT sent, waiting for CONNECTED
    connected,     ///< ready for SUBSCRIBE, SEND, ACK, NACK
    disconnecting, ///< DISCONNECT sent, waiting for its RECEIPT
    closed,        ///< DISCONNECT's receipt came
    failed,        ///< ERROR frame or protocol violation; close the connection
};

std::string_view to_string(session_state s) noexcept;

/// CONNECTED: the session is up.
struct connected_event
{
    std::string server;  ///< the `server` header ("RabbitMQ/3.10.8")
    std::string session; ///< the `session` header
    /// Negotiated: how often we must send something, and the longest silence we accept
    /// from the broker before declaring it dead (twice its period); 0 = none.
    std::chrono::milliseconds send_every{0};
    std::chrono::milliseconds receive_every{0};
};

/// MESSAGE: one delivery. `ack_id` is what ACK and NACK take: the `ack` header's value,
/// taken out of `f` (frame::take_header).
struct message_event
{
    std::string subscription;
    std::string ack_id;
    bool redelivered = false; ///< RabbitMQ's `redelivered` header
    frame f;                  ///< every header (`destination`, `message-id`, ...), and the body
};

/// RECEIPT for a frame sent with `send()` (the id it returned).
struct receipt_event
{
    std::uint64_t receipt = 0;
};

/// The DISCONNECT's receipt came: the broker has processed every frame sent before it.
struct disconnected_event
{
};

/// The session failed; `error` says why (server message, or what was malformed).
struct error_event
{
    courier::error error;
    /// The receipt of the frame the broker refused (its ERROR's `receipt-id`), 0 if none.
    std::uint64_t receipt = 0;
    /// The ERROR refuses nothing we sent: RabbitMQ could not hand over a delivery to a
    /// subscription we had ended. SENDs still waiting are not at fault and go again on the
    /// next connection.
    bool late_delivery = false;
};

using session_event = std::variant<connected_event, message_event, receipt_event, disconnected_event, error_event>;

/// One STOMP 1.2 client session.
///
/// \par Thread safety
/// Distinct objects: safe. Shared objects: unsafe.
class session
{
public:
    explicit session(session_options options);

    session_state state() const noexcept { return state_; }

    /// Queues CONNECT (accept-version 1.2, host, login, passcode, heart-beat). Only in `idle`.
    void connect();

    /// Queues SUBSCRIBE with `ack:client-individual` and, when `prefetch` > 0, RabbitMQ's
    /// `prefetch-count` (the most unacknowledged messages the broker hands this
    /// subscription). `extra` headers (e.g. `durable`, `x-queue-type`) are added as given.
    void subscribe(std::string_view id, std::string_view destination, std::size_t prefetch,
                   const header_list& extra = {});
    /// Queues UNSUBSCRIBE.
    void unsubscribe(std::string_view id);
    /// Queues ACK / NACK of one message (client-individual: only that one).
    void ack(std::string_view ack_id);
    /// `requeue` false adds RabbitMQ's `requeue:false` (dead-letter, or drop).
    void nack(std::string_view ack_id, bool requeue = true);
    /// Queues SEND with a `receipt` header; returns the receipt number the matching
    /// `receipt_event` will carry. `headers` go first (a `receipt` among them is replaced).
    std::uint64_t send(std::string_view destination, std::string body, header_list headers = {});
    /// Queues DISCONNECT with a receipt. Only when connected; the session then accepts
    /// MESSAGE and RECEIPT frames until `disconnected_event`.
    void disconnect();
    /// Queues a heart-beat (one LF).
    void heartbeat() { output_ += '\n'; }

    /// Decodes received bytes into events. Never throws: a failure becomes an `error_event`
    /// and state `failed`, and later bytes are ignored.
    void on_bytes(std::string_view bytes);

    /// The next event, oldest first.
    std::optional<session_event> poll_event();

    /// Bytes to write, oldest first. The driver writes them and then clears (or swaps) it.
    std::string& output() noexcept { return output_; }

private:
    void require(session_state expected, std::string_view what) const;
    void handle(frame& f);
    void fail(courier::error e, std::uint64_t receipt = 0, bool late_delivery = false);

    session_options options_;
    session_state state_ = session_state::idle;
    decoder decoder_;
    std::string output_;
    broker::event_queue<session_event> events_;
    std::uint64_t next_receipt_ = 1;
    std::uint64_t disconnect_receipt_ = 0;
    std::vector<std::string> unsubscribed_; // ids, to recognise RabbitMQ's late deliveries
    frame scratch_;
};

} // namespace courier::stomp

#endif
