// A real RabbitMQ 3.10 (Debian's rabbitmq-server, installed by tools/install-deps.sh --tests)
// for the broker integration tests, run as a child process of the test.
//
// `rabbitmq_server` starts, in a private folder under $TMPDIR, its own `epmd` on a free
// loopback port and then `/usr/lib/rabbitmq/bin/rabbitmq-server` (directly: the /usr/sbin
// wrapper switches user) with every listener on 127.0.0.1 and a free port: AMQP, STOMP (the
// rabbitmq_stomp plugin, enabled in a private enabled-plugins file), and Erlang distribution.
// Data (mnesia), logs, the Erlang cookie and the config are in that folder; the node name is
// unique per process. It is ready when both listeners complete a protocol handshake as guest.
//
// Starting takes 7-17 s on 2 cores, so a test run shares one broker (`shared_rabbitmq()`)
// and tests use unique queue names. `restart()` stops the broker and starts it again on the
// same ports with the same data: durable queues and persistent messages survive it.
//
// Stopping: SIGTERM to the broker's start script, which stops the Erlang VM and exits; it is
// waited for; after `stop_timeout` the whole process group is killed. Then epmd is killed
// and waited for, and the folder removed. Both children get SIGTERM/SIGKILL from the kernel
// if the test process dies first (PR_SET_PDEATHSIG), so nothing outlives a crashed test.
//
// PR_SET_PDEATHSIG fires when the *thread* that started a child ends: construct, restart and
// start the broker from a thread that outlives it (the test's main thread), never from a
// short-lived helper thread.
//
// Like fauxqs_server, the fixture uses plain blocking sockets, not courier's code.
#ifndef COURIER_TESTS_INTEGRATION_RABBITMQ_SERVER_HPP
#define COURIER_TESTS_INTEGRATION_RABBITMQ_SERVER_HPP

#include <chrono>
#include <cstdint>
#include <string>
#include <sys/types.h>

namespace courier_test {

struct rabbitmq_options
{
    /// The start script. Empty: `COURIER_RABBITMQ_SERVER`, else /usr/lib/rabbitmq/bin/rabbitmq-server.
    std::string server;
    /// Limit on one start, until both listeners answer. Generous: 17 s is the usual worst
    /// case on 2 busy cores, and a wall-clock limit here must hold at a 20x slowdown.
    std::chrono::milliseconds start_timeout = std::chrono::seconds(340);
    /// How long a stop waits after SIGTERM before killing the process group. The broker
    /// needs about 3 s; the margin is for a loaded machine.
    std::chrono::milliseconds stop_timeout = std::chrono::seconds(60);
};

/// One RabbitMQ broker (and its epmd) on 127.0.0.1, owned by this object.
///
/// \par Errors
/// The constructor throws `std::runtime_error` if RabbitMQ is not installed (the message says
/// to run tools/install-deps.sh --tests), exits early, or is not ready within
/// `start_timeout`; the message ends with the tail of the broker's log. Nothing is left
/// running then.
///
/// \par Thread safety
/// Distinct objects: safe. Shared objects: unsafe.
class rabbitmq_server
{
public:
    explicit rabbitmq_server(rabbitmq_options options = {});
    ~rabbitmq_server();
    rabbitmq_server(const rabbitmq_server&) = delete;
    rabbitmq_server& operator=(const rabbitmq_server&) = delete;

    std::uint16_t amqp_port() const noexcept { return amqp_port_; }
    std::uint16_t stomp_port() const noexcept { return stomp_port_; }
    /// "amqp://guest:guest@127.0.0.1:<port>/" (vhost "/").
    std::string amqp_url() const;
    /// "stomp://guest:guest@127.0.0.1:<port>/".
    std::string stomp_url() const;
    /// The start script's pid (the broker's process group), -1 while stopped.
    pid_t pid() const noexcept { return broker_pid_; }
    /// The private folder (data, logs, config).
    const std::string& folder() const noexcept { return folder_; }

    /// Stops the broker (not epmd) and starts it again on the same ports with the same data.
    void restart();
    /// Stops the broker (waits for it); connections see it go away. `start()` brings it back.
    void stop_broker() noexcept;
    void start_broker();

    /// Runs `rabbitmqctl <arguments>` against this node (e.g. "list_queues name"); returns its
    /// output. Throws std::runtime_error if it fails.
    std::string ctl(const std::string& arguments) const;

    /// Stops the broker and epmd, removes the folder. Idempotent; never throws.
    void stop() noexcept;

private:
    rabbitmq_options options_;
    std::string folder_;
    std::string node_;
    std::uint16_t epmd_port_ = 0, amqp_port_ = 0, stomp_port_ = 0, dist_port_ = 0;
    pid_t epmd_pid_ = -1;
    pid_t broker_pid_ = -1;
};

/// The broker of this test run, started on first use and stopped at exit.
rabbitmq_server& shared_rabbitmq();

} // namespace courier_test

#endif
