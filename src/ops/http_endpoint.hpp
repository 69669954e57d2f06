// The operations endpoint a manager serves when asked: /metrics (Prometheus text format),
// /healthz (the event loop turns) and /readyz (every route receives). HTTP/1.1 with Beast,
// on the manager's io_context, bound to the address the user gives.
#ifndef COURIER_SRC_OPS_HTTP_ENDPOINT_HPP
#define COURIER_SRC_OPS_HTTP_ENDPOINT_HPP

#include <courier/dispatcher.hpp>
#include <courier/logger.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace courier::detail {

/// What the endpoint answers with.
struct endpoint_sources
{
    std::function<std::string()> metrics;
    std::function<courier::readiness()> readiness;
};

class http_endpoint
{
public:
    /// Binds `address` ("127.0.0.1:9464", "[::1]:9464", "0.0.0.0:9464"; port 0 picks a free
    /// one) and starts serving on `executor`. Throws `courier::error` (bad_configuration)
    /// naming the address when it cannot be parsed or bound.
    http_endpoint(boost::asio::any_io_executor executor, std::string_view address, endpoint_sources sources,
                  const logger& log);
    ~http_endpoint();
    http_endpoint(const http_endpoint&) = delete;
    http_endpoint& operator=(const http_endpoint&) = delete;

    /// The port it listens on.
    std::uint16_t port() const noexcept;
    /// Stops accepting and closes the open connections.
    void stop();

    struct state;

private:
    std::shared_ptr<state> state_;
    bool stop_requested_ = false;
};

/// Parses "host:port" ("[v6]:port" for IPv6); throws courier::error (bad_configuration).
std::pair<std::string, std::uint16_t> parse_listen_address(std::string_view address);

} // namespace courier::detail

#endif
