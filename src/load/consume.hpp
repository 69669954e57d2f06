// The consume run shared by `courier-load consume|bench`, `bench/courier-sqs-bench` and
// `bench/broker-bench`: a real `courier::manager` with one route (SQS, or a RabbitMQ queue
// over AMQP 0-9-1 or STOMP) drains a queue, and one JSON line tells how fast, at what CPU
// cost and with what peak memory. One implementation, so the figures of the load tool and
// of the benchmarks cannot drift apart.
#ifndef COURIER_SRC_LOAD_CONSUME_HPP
#define COURIER_SRC_LOAD_CONSUME_HPP

#include <courier/logger.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace courier::tools {

/// What one consume run does.
struct consume_options
{
    /// Where requests go; empty = the AWS chain (AWS_ENDPOINT_URL_SQS, ...).
    std::string endpoint;
    std::string region;
    log_level log = log_level::warning;
    /// The queue, passed only as the QueueUrl parameter.
    std::string queue_url;
    /// Instead of SQS: `amqp://user:pass@host:port/vhost` or `stomp://...` (a bare trailing
    /// `/` is the vhost "/"), and the queue's name there (a durable classic queue, declared
    /// if missing; `/queue/<queue>` on STOMP).
    std::string broker_url;
    std::string queue;
    /// Messages to handle (distinct ones, unless `count_invocations`).
    std::int64_t messages = 0;
    /// The route's max_in_flight.
    std::size_t in_flight = 10;
    /// Threads running the io_context (1 = the caller's only).
    std::size_t threads = 1;
    /// A timer the handler waits on (simulated work that holds the message in flight).
    std::chrono::milliseconds handler_delay{0};
    /// Throw on every K-th first delivery (0 = never).
    std::uint64_t fail_every = 0;
    /// Stop after this long without a message (0 = never).
    std::chrono::seconds idle_exit{0};
    std::chrono::seconds wait_time{20};
    std::chrono::seconds visibility_timeout{30};
    /// One line per handler invocation, written unbuffered (empty = none).
    std::string ids_path;
    /// Lines of `ids_path` are MessageIds (the peers' harness) rather than seqs.
    bool ids_are_message_ids = false;
    /// Keep the lines of `ids_path` in memory and write them once the run is over, as the
    /// peers' harness asks (its Node consumers keep theirs in a Set): a write per message
    /// would add a system call to the measured cost. Off for the crash soaks, which need
    /// every line on disk before the next message.
    bool ids_at_end = false;
    /// One line per successful handler invocation, written when the handler returns (empty
    /// = none): after a graceful stop every seq in it must have been acked (soak tests).
    std::string done_path;
    /// Timeout of one SQS request; 0 keeps the client's default (long polls add their wait).
    std::chrono::milliseconds request_timeout{0};
    /// Stop once the queue reports no message (visible, in flight or delayed) instead of
    /// after `messages` seqs: a run through faults or restarts is done only when nothing is
    /// left, since a lost ack brings its message back after the visibility timeout. SQS
    /// only: a broker gives back what a dead consumer held at once, so `idle_exit` serves.
    bool until_empty = false;
    /// Stop after `messages` successful invocations instead of `messages` distinct seqs,
    /// and keep no per-message sets: for the stub server, whose bodies repeat.
    bool count_invocations = false;
    /// MD5 checks of received messages (on by default, as in the library).
    bool verify_md5 = true;
    /// The "peer" and "mode" fields of the JSON line.
    std::string peer = "courier";
    std::string mode = "consume";
};

/// Runs the consume described by `o` and prints its JSON line on stdout. Returns the
/// process exit status (0 done, 1 the manager ended in error). Throws on bad settings.
int run_consume(const consume_options& o);

/// What `courier-load produce --broker-url` does: `messages` bodies (from `make_body`) to
/// `queue` (declared durable if missing), `concurrency` confirmed publishes in flight.
/// Returns the seconds it took; throws what a publish threw.
double produce_to_broker(const std::string& broker_url, const std::string& queue, std::int64_t messages,
                         std::size_t concurrency, const std::function<std::string(std::int64_t)>& make_body,
                         log_level log);

/// The run a peer benchmark harness asks for through its external-program contract:
/// BENCH_QUEUE_URL, BENCH_ENDPOINT, BENCH_MESSAGES, BENCH_CONCURRENCY,
/// BENCH_WAIT_TIME_SECONDS, and the MessageIds handled written to BENCH_IDS_FILE. BENCH_CONCURRENCY
/// C means 10 x C messages in flight: a Node peer's concurrency is C consumers each
/// holding a receive of 10 messages, so this is the same number of messages being handled
/// at once. Throws std::invalid_argument naming a missing variable.
consume_options options_from_bench_env();

/// The process's peak resident set (VmHWM) in KiB, 0 if unknown.
std::int64_t peak_rss_kib();

} // namespace courier::tools

#endif
