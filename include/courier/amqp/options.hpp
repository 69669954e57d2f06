// How to reach an AMQP 0-9-1 broker (RabbitMQ): address, credentials, virtual host,
// heartbeat, reconnection; and the URL form `amqp://user:pass@host:port/vhost`.
#ifndef COURIER_AMQP_OPTIONS_HPP
#define COURIER_AMQP_OPTIONS_HPP

#include <courier/clock.hpp>
#include <courier/logger.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace courier::amqp {

/// One AMQP connection's settings. Durations are milliseconds unless noted.
struct connection_options
{
    std::string host = "127.0.0.1";
    std::uint16_t port = 5672;
    std::string login = "guest";
    std::string passcode = "guest";
    std::string virtual_host = "/";
    /// Heartbeat asked for (whole seconds; the broker's value wins where one side says 0,
    /// the smaller one otherwise). A broker silent for two periods is taken for dead.
    /// Default 10 s.
    std::chrono::seconds heartbeat{10};
    /// Largest frame offered; bodies are split to fit the negotiated one. Default 128 KiB.
    std::uint32_t frame_max = 131072;
    /// TCP connect plus the AMQP handshake. Default 10 s.
    std::chrono::milliseconds connect_timeout{10'000};
    /// Reconnection backoff (see stomp::connection_options). Defaults 100 ms and 30 s.
    std::chrono::milliseconds reconnect_delay{100};
    std::chrono::milliseconds reconnect_delay_max{30'000};
    /// How long `publish` keeps trying (waiting for a connection or for the broker to
    /// unblock publishing, republishing after a reconnect) before it fails. Default 30 s.
    std::chrono::milliseconds publish_timeout{30'000};
    /// Shown in the broker's management UI.
    std::string connection_name = "courier";
    std::shared_ptr<courier::clock> clock;
    courier::logger log{};
};

/// Parses `amqp://[user[:pass]@]host[:port]/[vhost]` (port 5672 by default; a bare
/// trailing `/` means vhost "/", `%2F` too). Throws `courier::error`
/// (errc::bad_configuration) naming the fault; the password is never quoted.
connection_options parse_url(std::string_view url);

} // namespace courier::amqp

#endif
