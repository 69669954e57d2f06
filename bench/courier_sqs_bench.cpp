// courier-sqs-bench: courier's SQS consume path as a benchmark, two ways.
//
//   courier-sqs-bench
//       The external-program contract of ../shared/peers/external-bench.mjs (read its
//       header): queue, endpoint, message count, wait time and ids file come in BENCH_*
//       variables. BENCH_CONCURRENCY C = 10 x C messages in flight in one route: a Node
//       peer's concurrency is C consumers each holding a receive of 10 messages.
//       Prints one JSON line (seconds, cpu_user_s, cpu_sys_s of the consume phase).
//
//   courier-sqs-bench --stub [--messages N] [--concurrency C] [--threads T]
//                     [--handler-delay-ms D] [--no-md5] [--stub-server PATH]
//       The client-side ceiling: starts bench/sqs_stub_server as a child process (its CPU is
//       not ours: getrusage(RUSAGE_SELF) counts this process only) and drains N messages
//       (default 200000) with C in flight (default 10) on T I/O threads (default 1):
//       SigV4 signing, HTTP keep-alive, JSON parse with MD5 checks, dispatch, handler
//       (parses the body) and batched DeleteMessageBatch, all on the path.
//
//   courier-sqs-bench --stub --floor [--messages N]
//       The same exchanges with the least a client can do (sqs_floor_client.hpp): blocking
//       system calls, no signing, no parse. The kernel's and the transport's share of the
//       figure above, which no client on this machine can go below.
//
// Both are `courier::tools::run_consume`, the code of `courier-load consume|bench`.
#include "load/consume.hpp"
#include "sqs_floor_client.hpp"

#include <fmt/core.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <signal.h>
#include <spawn.h>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace {

constexpr const char* usage = R"(usage:
  courier-sqs-bench                       (from external-bench.mjs: BENCH_* variables)
  courier-sqs-bench --stub [--messages N] [--concurrency C] [--threads T]
                    [--handler-delay-ms D] [--no-md5] [--stub-server PATH]
  courier-sqs-bench --stub --floor [--messages N] [--stub-server PATH]
)";

std::int64_t to_number(std::string_view flag, std::string_view s, std::int64_t min, std::int64_t max)
{
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size() || v < min || v > max)
        throw std::invalid_argument(fmt::format("{}: expected an integer from {} to {}, got '{}'", flag, min, max, s));
    return v;
}

// The stub server as a child process, stopped (by its pid) when this goes out of scope.
// Its stdin is a pipe from us, so it also exits if we die without stopping it.
class stub_process
{
public:
    explicit stub_process(const std::string& path)
    {
        int out[2];
        int in[2];
        if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(in, O_CLOEXEC) != 0)
            throw std::runtime_error("pipe failed");
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
        posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
        std::string arg0 = path;
        std::string flag = "--exit-on-stdin-eof";
        char* argv[] = {arg0.data(), flag.data(), nullptr};
        const int rc = ::posix_spawn(&pid_, path.c_str(), &actions, nullptr, argv, environ);
        posix_spawn_file_actions_destroy(&actions);
        ::close(out[1]);
        ::close(in[0]);
        stdin_ = in[1];
        if (rc != 0)
        {
            ::close(out[0]);
            throw std::runtime_error(fmt::format("cannot start {}: {}", path, std::strerror(rc)));
        }
        // "listening <port> <pid>\n"
        std::string line;
        char c = 0;
        while (::read(out[0], &c, 1) == 1 && c != '\n')
            line += c;
        ::close(out[0]);
        unsigned port = 0;
        if (std::sscanf(line.c_str(), "listening %u", &port) != 1 || port == 0)
            throw std::runtime_error(fmt::format("{} did not print its port (got '{}')", path, line));
        port_ = static_cast<unsigned short>(port);
    }
    ~stub_process()
    {
        ::kill(pid_, SIGTERM);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        ::close(stdin_);
    }
    stub_process(const stub_process&) = delete;
    stub_process& operator=(const stub_process&) = delete;

    unsigned short port() const { return port_; }

private:
    pid_t pid_ = 0;
    int stdin_ = -1;
    unsigned short port_ = 0;
};

int run_against_stub(int argc, char** argv)
{
    namespace fs = std::filesystem;
    courier::tools::consume_options o;
    o.messages = 200000;
    o.count_invocations = true; // the stub's bodies repeat; its MessageIds never do
    o.mode = "stub";
    std::string server = (fs::read_symlink("/proc/self/exe").parent_path() / "sqs_stub_server").string();
    bool floor = false;
    for (int i = 1; i < argc; ++i)
    {
        const std::string_view arg = argv[i];
        const auto value = [&]() -> std::string_view {
            if (i + 1 >= argc)
                throw std::invalid_argument(fmt::format("{} needs a value", arg));
            return argv[++i];
        };
        if (arg == "--stub")
            continue;
        if (arg == "--messages")
            o.messages = to_number(arg, value(), 1, INT64_MAX);
        else if (arg == "--concurrency")
            o.in_flight = static_cast<std::size_t>(to_number(arg, value(), 1, 100000));
        else if (arg == "--threads")
            o.threads = static_cast<std::size_t>(to_number(arg, value(), 1, 64));
        else if (arg == "--handler-delay-ms")
            o.handler_delay = std::chrono::milliseconds(to_number(arg, value(), 0, 600000));
        else if (arg == "--no-md5")
            o.verify_md5 = false;
        else if (arg == "--floor")
            floor = true;
        else if (arg == "--stub-server")
            server = std::string(value());
        else
            throw std::invalid_argument(fmt::format("unknown argument '{}'", arg));
    }
    // The stub checks no signature, but the client needs credentials to sign with: dummy
    // ones unless the caller set some (never real ones: the stub is on loopback).
    ::setenv("AWS_ACCESS_KEY_ID", "bench", 0);
    ::setenv("AWS_SECRET_ACCESS_KEY", "bench", 0);
    ::setenv("AWS_REGION", "us-east-1", 0);
    stub_process stub(server);
    if (floor)
    {
        const auto r = courier::bench::run_floor(stub.port(), o.messages);
        fmt::print("{{\"peer\":\"floor\",\"messages\":{},\"seconds\":{:.4f},\"msgs_per_s\":{:.1f},"
                   "\"cpu_us_per_msg\":{:.2f},\"requests\":{},\"mode\":\"stub\",\"concurrency\":10,\"threads\":1}}\n",
                   r.messages, r.seconds, r.messages / r.seconds, r.cpu_seconds * 1e6 / r.messages, r.requests);
        return 0;
    }
    o.endpoint = fmt::format("http://127.0.0.1:{}", stub.port());
    o.queue_url = fmt::format("http://127.0.0.1:{}/000000000000/stub", stub.port());
    return courier::tools::run_consume(o);
}

} // namespace

int main(int argc, char** argv)
{
    try
    {
        for (int i = 1; i < argc; ++i)
            if (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h")
            {
                fmt::print("{}", usage);
                return 0;
            }
        if (argc > 1 && std::string_view(argv[1]) == "--stub")
            return run_against_stub(argc, argv);
        if (argc > 1)
            throw std::invalid_argument(fmt::format("unexpected argument '{}'", argv[1]));
        return courier::tools::run_consume(courier::tools::options_from_bench_env());
    }
    catch (const std::invalid_argument& e)
    {
        fmt::print(stderr, "courier-sqs-bench: {}\n{}", e.what(), usage);
        return 2;
    }
    catch (const std::exception& e)
    {
        fmt::print(stderr, "courier-sqs-bench: {}\n", e.what());
        return 1;
    }
}
