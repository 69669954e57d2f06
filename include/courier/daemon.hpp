// A consumer daemon's command line and set-up, as microcosm-pubsub's ConsumerDaemon has: the
// flags every courier service shares, and what they build (manager options, the SQS client,
// one provider per queue, or in-memory queues for --testing).
//
//     int main(int argc, char** argv)
//     {
//         courier::daemon daemon("orders-service", "Handles orders.");
//         daemon.parse_or_exit(argc, argv);              // 0 after --help, 2 on a bad flag
//         courier::manager mgr(daemon.manager_options());
//         auto sqs = daemon.make_sqs_client(mgr.get_executor());   // null under --testing
//         for (auto& queue : daemon.make_queues(sqs))
//             mgr.add_route(queue.name, queue.source, courier::json<order>{}, handle_order,
//                           daemon.route_options({.on_error = courier::retry_with_backoff()}));
//         return mgr.run();
//     }
//
// The flags (each also read from COURIER_<NAME>, see command_line.hpp):
//   --sqs-queue-url URL|NAME   a queue to consume, repeatable; a name is resolved with
//                              GetQueueUrl when its route starts
//   --testing                  in-memory queues instead of SQS: no AWS at all
//   --debug                    log at debug level (default: info)
//   --log-format text|json     log lines for people or one JSON object per line
//   --metrics-address H:P      serve /metrics, /healthz and /readyz there
//   --concurrency N            messages in flight per route (default 10)
//   --endpoint URL, --region R where SQS is (default: the AWS environment and files)
// A program adds its own flags with `add_options()` before parsing.
#ifndef COURIER_DAEMON_HPP
#define COURIER_DAEMON_HPP

#include <courier/command_line.hpp>
#include <courier/logger.hpp>
#include <courier/manager.hpp>
#include <courier/memory/provider.hpp>
#include <courier/route_options.hpp>
#include <courier/sqs/client.hpp>
#include <courier/sqs/provider.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <cstddef>
#include <iosfwd>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace courier {

/// The values of the shared flags after parsing.
struct daemon_options
{
    /// --sqs-queue-url, in order: queue URLs (http:// or https://) or queue names.
    std::vector<std::string> sqs_queues;
    /// --testing: in-memory queues instead of SQS.
    bool testing = false;
    /// --debug: log at debug level instead of info.
    bool debug = false;
    /// --log-format.
    courier::log_format log_format = courier::log_format::text;
    /// --metrics-address: "host:port" for /metrics, /healthz and /readyz; empty: not served.
    std::string metrics_address;
    /// --concurrency: each route's `max_in_flight`.
    std::size_t concurrency = 10;
    /// --endpoint and --region; empty: found the AWS SDKs' way (see aws::client_options).
    std::string endpoint;
    std::string region;
};

/// One queue of the daemon, ready for `manager::add_route`.
struct daemon_queue
{
    /// The queue's name (a URL's last path segment): a good route name.
    std::string name;
    /// The provider: SQS, or the memory queue under --testing.
    std::shared_ptr<provider> source;
    /// Under --testing, the same memory queue as `source` (to send it test messages); null
    /// otherwise.
    std::shared_ptr<memory_provider> memory;
};

/// True for a queue URL (http:// or https://), false for a queue name.
bool is_queue_url(std::string_view queue) noexcept;

/// The name of a queue given by URL or name: the URL's last path segment, or the name itself.
std::string queue_name(std::string_view queue);

/// A provider for `queue` through `client`: a URL is used as is; a name is resolved with
/// GetQueueUrl when the route opens it (a queue that does not exist then stops the service
/// with `exit_permanent_error`, as a missing URL does).
std::shared_ptr<provider> make_sqs_provider_for(std::shared_ptr<sqs_client> client, std::string queue,
                                                sqs_queue_options options = {});

/// A daemon's command line (the shared flags plus the program's own) and what it builds.
///
/// Parsing rejects, with exit status 2: no --sqs-queue-url without --testing, an empty queue,
/// --concurrency outside 1..100000, a --log-format other than text or json, and a
/// --metrics-address that is not host:port.
///
/// Thread safety: none; use it in `main`.
class daemon
{
public:
    /// `program` names it in --help and errors; `about` says what it does (printed by --help).
    explicit daemon(std::string program, std::string about = {});
    daemon(const daemon&) = delete;
    daemon& operator=(const daemon&) = delete;

    /// The program's own flags (see command_line.hpp); add them before parsing.
    boost::program_options::options_description_easy_init add_options() { return cli_.add_options(); }
    /// The command line itself: checks, epilogue, values of the program's flags.
    courier::command_line& command_line() noexcept { return cli_; }

    /// Parses the process's arguments and environment; prints the help and exits 0 after
    /// --help, prints what is wrong and exits 2 after a bad flag.
    void parse_or_exit(int argc, const char* const argv[]);
    /// As `command_line::parse`: nullopt to go on, else the exit status (0 or 2).
    std::optional<int> parse(std::span<const std::string> args, const environment_lookup& environment,
                             std::ostream& out, std::ostream& err);

    /// The shared flags' values (after parsing).
    const daemon_options& options() const noexcept { return options_; }

    /// A logger at info (debug with --debug) in the --log-format.
    courier::logger make_logger() const;
    /// Manager options with that logger and --metrics-address.
    courier::manager_options manager_options() const;
    /// SQS client options with --endpoint, --region and that logger.
    courier::sqs_client_options sqs_client_options() const;
    /// The SQS client every queue shares (its connections and credentials); null under
    /// --testing.
    std::shared_ptr<sqs_client> make_sqs_client(boost::asio::any_io_executor executor) const;
    /// One queue per --sqs-queue-url, in order, through `sqs` with `options` (its queue_url is
    /// set per queue). Under --testing a memory queue per --sqs-queue-url with `memory` (its
    /// name set per queue), or one named "testing" when none was given; `sqs` is not used.
    /// Throws courier::error (bad_configuration) without a client outside --testing.
    std::vector<daemon_queue> make_queues(std::shared_ptr<sqs_client> sqs, sqs_queue_options options = {},
                                          memory_queue_options memory = {}) const;
    /// `options` with `max_in_flight` from --concurrency.
    courier::route_options route_options(courier::route_options options = {}) const;

private:
    courier::command_line cli_;
    daemon_options options_;
};

} // namespace courier

#endif
