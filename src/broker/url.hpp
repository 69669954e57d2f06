// Broker URLs, shared by STOMP and AMQP: `scheme://user:pass@host:port/vhost`.
//
// RabbitMQ users write the default virtual host "/" as a bare trailing slash
// (`amqp://guest:guest@127.0.0.1:5672/`); any other vhost is the path's one segment,
// percent-decoded (`/%2F` is "/" too, as the AMQP URI spec has it). User and password are
// percent-decoded; missing ones stay empty (the options' defaults then apply).
#ifndef COURIER_SRC_BROKER_URL_HPP
#define COURIER_SRC_BROKER_URL_HPP

#include <cstdint>
#include <string>
#include <string_view>

namespace courier::broker {

struct address
{
    std::string host;
    std::uint16_t port = 0;
    std::string user;
    std::string password;
    bool has_user = false;
    std::string virtual_host = "/";
};

/// Parses `url` whose scheme must be `scheme`; `default_port` when none is given. Throws
/// `courier::error` (errc::bad_configuration) naming the fault, never quoting the password.
address parse_url(std::string_view url, std::string_view scheme, std::uint16_t default_port);

/// The URL without its password, for logs and errors.
std::string redacted(const address& a, std::string_view scheme);

} // namespace courier::broker

#endif
