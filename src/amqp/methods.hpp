// The AMQP 0-9-1 methods a consumer and a publisher need, and content headers, without I/O.
//
// Server-to-client methods decode into the `server_method` variant; client-to-server
// methods are appended to an output buffer as whole frames by the `send_*` functions.
// Field order and bit packing follow the AMQP 0-9-1 specification (amqp0-9-1.xml): adjacent
// `bit` fields share an octet, least significant bit first. Class and method ids are the
// specification's (connection 10, channel 20, exchange 40, queue 50, basic 60, confirm 85).
#ifndef COURIER_SRC_AMQP_METHODS_HPP
#define COURIER_SRC_AMQP_METHODS_HPP

#include "amqp/wire.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace courier::amqp {

/// basic's content properties; empty optionals are absent (their flag bit is clear).
struct properties
{
    std::optional<std::string> content_type;
    std::optional<std::string> content_encoding;
    std::optional<field_table> headers;
    std::optional<std::uint8_t> delivery_mode; ///< 1 transient, 2 persistent
    std::optional<std::uint8_t> priority;
    std::optional<std::string> correlation_id;
    std::optional<std::string> reply_to;
    std::optional<std::string> expiration;
    std::optional<std::string> message_id;
    std::optional<std::uint64_t> timestamp;
    std::optional<std::string> type;
    std::optional<std::string> user_id;
    std::optional<std::string> app_id;
    std::optional<std::string> cluster_id;
};

struct content_header
{
    std::uint16_t class_id = 60;
    std::uint64_t body_size = 0;
    properties props;
};

/// Decodes a content header frame's payload. Throws `courier::error` (errc::bad_response).
content_header decode_content_header(std::string_view payload);

namespace method {
struct connection_start
{
    std::uint8_t version_major = 0, version_minor = 0;
    field_table server_properties;
    std::string mechanisms, locales;
};
struct connection_tune
{
    std::uint16_t channel_max = 0;
    std::uint32_t frame_max = 0;
    std::uint16_t heartbeat = 0;
};
struct connection_open_ok
{
};
/// connection.close and channel.close carry the same fields.
struct close
{
    std::uint16_t reply_code = 0;
    std::string reply_text;
    std::uint16_t class_id = 0, method_id = 0;
};
struct connection_close : close
{
};
struct connection_close_ok
{
};
struct connection_blocked
{
    std::string reason;
};
struct connection_unblocked
{
};
struct channel_open_ok
{
};
struct channel_flow
{
    bool active = true;
};
struct channel_close : close
{
};
struct channel_close_ok
{
};
struct exchange_declare_ok
{
};
struct queue_declare_ok
{
    std::string queue;
    std::uint32_t message_count = 0, consumer_count = 0;
};
struct queue_bind_ok
{
};
struct basic_qos_ok
{
};
struct basic_consume_ok
{
    std::string consumer_tag;
};
/// From the server: the consumer was cancelled (queue deleted, node down, ...).
struct basic_cancel
{
    std::string consumer_tag;
    bool no_wait = false;
};
struct basic_cancel_ok
{
    std::string consumer_tag;
};
struct basic_deliver
{
    std::string consumer_tag;
    std::uint64_t delivery_tag = 0;
    bool redelivered = false;
    std::string exchange, routing_key;
};
struct basic_return
{
    std::uint16_t reply_code = 0;
    std::string reply_text, exchange, routing_key;
};
/// Publisher confirms (after confirm.select).
struct basic_ack
{
    std::uint64_t delivery_tag = 0;
    bool multiple = false;
};
struct basic_nack
{
    std::uint64_t delivery_tag = 0;
    bool multiple = false, requeue = false;
};
struct confirm_select_ok
{
};
} // namespace method

using server_method =
    std::variant<method::connection_start, method::connection_tune, method::connection_open_ok,
                 method::connection_close, method::connection_close_ok, method::connection_blocked,
                 method::connection_unblocked, method::channel_open_ok, method::channel_flow, method::channel_close,
                 method::channel_close_ok, method::exchange_declare_ok, method::queue_declare_ok, method::queue_bind_ok,
                 method::basic_qos_ok, method::basic_consume_ok, method::basic_cancel, method::basic_cancel_ok,
                 method::basic_deliver, method::basic_return, method::basic_ack, method::basic_nack,
                 method::confirm_select_ok>;

/// Decodes a method frame's payload. Throws `courier::error` (errc::bad_response) for a
/// truncated payload or a method a client does not expect from a server (named by its ids).
server_method decode_method(std::string_view payload);

/// "class.method" for the ids (e.g. "basic.publish"), or "class-id/method-id" numbers.
std::string method_name(std::uint16_t class_id, std::uint16_t method_id);

// ---- client methods: each appends one method frame (publish: method, header, bodies) ----

void send_start_ok(std::string& out, const field_table& client_properties, std::string_view mechanism,
                   std::string_view response, std::string_view locale);
void send_tune_ok(std::string& out, std::uint16_t channel_max, std::uint32_t frame_max, std::uint16_t heartbeat);
void send_connection_open(std::string& out, std::string_view virtual_host);
void send_connection_close(std::string& out, std::uint16_t code, std::string_view text, std::uint16_t class_id = 0,
                           std::uint16_t method_id = 0);
void send_connection_close_ok(std::string& out);
void send_channel_open(std::string& out, std::uint16_t channel);
void send_channel_flow_ok(std::string& out, std::uint16_t channel, bool active);
void send_channel_close(std::string& out, std::uint16_t channel, std::uint16_t code, std::string_view text,
                        std::uint16_t class_id = 0, std::uint16_t method_id = 0);
void send_channel_close_ok(std::string& out, std::uint16_t channel);

struct exchange_declare_args
{
    std::string exchange;
    std::string type = "direct";
    bool passive = false, durable = true, auto_delete = false, internal = false;
    field_table arguments;
};
void send_exchange_declare(std::string& out, std::uint16_t channel, const exchange_declare_args& a);

struct queue_declare_args
{
    std::string queue; ///< empty: the broker names it (queue.declare-ok says how)
    bool passive = false, durable = true, exclusive = false, auto_delete = false;
    field_table arguments; ///< x-queue-type, x-dead-letter-exchange, x-message-ttl, ...
};
void send_queue_declare(std::string& out, std::uint16_t channel, const queue_declare_args& a);
void send_queue_bind(std::string& out, std::uint16_t channel, std::string_view queue, std::string_view exchange,
                     std::string_view routing_key, const field_table& arguments = {});
void send_basic_qos(std::string& out, std::uint16_t channel, std::uint16_t prefetch_count, bool global = false);
void send_basic_consume(std::string& out, std::uint16_t channel, std::string_view queue, std::string_view consumer_tag,
                        bool no_ack = false, bool exclusive = false, const field_table& arguments = {});
void send_basic_cancel(std::string& out, std::uint16_t channel, std::string_view consumer_tag);
void send_basic_cancel_ok(std::string& out, std::uint16_t channel, std::string_view consumer_tag);
void send_basic_ack(std::string& out, std::uint16_t channel, std::uint64_t delivery_tag, bool multiple = false);
void send_basic_nack(std::string& out, std::uint16_t channel, std::uint64_t delivery_tag, bool multiple, bool requeue);
void send_basic_reject(std::string& out, std::uint16_t channel, std::uint64_t delivery_tag, bool requeue);
void send_confirm_select(std::string& out, std::uint16_t channel);
/// basic.publish, its content header, and the body split into frames of at most
/// `frame_max` octets (0: one body frame). An empty body has no body frame.
void send_basic_publish(std::string& out, std::uint16_t channel, std::string_view exchange,
                        std::string_view routing_key, bool mandatory, const properties& props, std::string_view body,
                        std::uint32_t frame_max);

/// AMQP reply codes the client uses or reports.
namespace reply_code {
inline constexpr std::uint16_t success = 200;
inline constexpr std::uint16_t no_route = 312;
inline constexpr std::uint16_t connection_forced = 320;
inline constexpr std::uint16_t not_found = 404;
inline constexpr std::uint16_t precondition_failed = 406;
inline constexpr std::uint16_t frame_error = 501;
inline constexpr std::uint16_t syntax_error = 502;
inline constexpr std::uint16_t command_invalid = 503;
inline constexpr std::uint16_t channel_error = 504;
inline constexpr std::uint16_t unexpected_frame = 505;
} // namespace reply_code

} // namespace courier::amqp

#endif
