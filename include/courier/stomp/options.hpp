// How to reach a STOMP 1.2 broker (RabbitMQ's rabbitmq_stomp plugin, ActiveMQ, Artemis):
// address, credentials, virtual host, heart-beats, reconnection; and the URL form
// `stomp://user:pass@host:port/vhost`.
#ifndef COURIER_STOMP_OPTIONS_HPP
#define COURIER_STOMP_OPTIONS_HPP

#include <courier/clock.hpp>
#include <courier/logger.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace courier::stomp {

/// One STOMP connection's settings. Durations are milliseconds; 0 disables where noted.
struct connection_options
{
    std::string host = "127.0.0.1";
    std::uint16_t port = 61613;
    std::string login = "guest";
    std::string passcode = "guest";
    /// The CONNECT frame's `host` header: RabbitMQ's virtual host. Default "/".
    std::string virtual_host = "/";
    /// Heart-beat period offered both ways (STOMP negotiates each direction). A broker
    /// silent for twice the negotiated period is taken for dead and the connection is
    /// rebuilt. Default 10 s; 0 disables.
    std::chrono::milliseconds heartbeat{10'000};
    /// TCP connect plus CONNECT/CONNECTED. Default 10 s.
    std::chrono::milliseconds connect_timeout{10'000};
    /// Reconnection backoff: the first retry after `reconnect_delay`, doubling up to
    /// `reconnect_delay_max`, each jittered within [d/2, d]. Defaults 100 ms and 30 s.
    std::chrono::milliseconds reconnect_delay{100};
    std::chrono::milliseconds reconnect_delay_max{30'000};
    /// How long `publish` keeps trying (waiting for a connection, republishing after a
    /// reconnect) before it fails. Default 30 s.
    std::chrono::milliseconds publish_timeout{30'000};
    /// Largest frame body accepted from the broker. Default 16 MiB.
    std::size_t max_body_bytes = 16u << 20;
    /// Timers (heart-beats, backoff, timeouts). Default: the real clock.
    std::shared_ptr<courier::clock> clock;
    courier::logger log{};
};

/// Parses `stomp://[user[:pass]@]host[:port]/[vhost]` into options (port 61613 by default;
/// a bare trailing `/` means the default vhost "/"). Throws `courier::error`
/// (errc::bad_configuration) naming the fault; the password is never quoted.
connection_options parse_url(std::string_view url);

} // namespace courier::stomp

#endif
