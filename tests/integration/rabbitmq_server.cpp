// Starting and stopping RabbitMQ and its epmd as children of the test (see rabbitmq_server.hpp).
// Linux only: fork/exec with PR_SET_PDEATHSIG, poll, waitpid.
#include "rabbitmq_server.hpp"

#include <arpa/inet.h>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sstream>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace courier_test {
namespace {

using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

[[noreturn]] void fail(const std::string& what)
{
    throw std::runtime_error("rabbitmq_server: " + what);
}

// Ports the kernel considers free now: all sockets are held until every port is chosen, so
// the ports differ from each other.
std::array<std::uint16_t, 4> free_ports()
{
    std::array<int, 4> fds{};
    std::array<std::uint16_t, 4> ports{};
    for (std::size_t i = 0; i < fds.size(); ++i)
    {
        fds[i] = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (fds[i] < 0 || ::bind(fds[i], reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
            ::getsockname(fds[i], reinterpret_cast<sockaddr*>(&a), &len) != 0)
            fail(std::string("cannot find a free port: ") + std::strerror(errno));
        ports[i] = ntohs(a.sin_port);
    }
    for (int fd : fds)
        ::close(fd);
    return ports;
}

// fork + exec with stdout and stderr appended to `log`, stdin from /dev/null, its own process
// group if `group`, and `death_signal` sent by the kernel when this thread ends.
pid_t spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env, const std::string& log,
            int death_signal, bool group)
{
    std::vector<char*> argv_c, env_c;
    for (const auto& a : argv)
        argv_c.push_back(const_cast<char*>(a.c_str()));
    argv_c.push_back(nullptr);
    for (const auto& e : env)
        env_c.push_back(const_cast<char*>(e.c_str()));
    env_c.push_back(nullptr);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0)
        fail(std::string("fork: ") + std::strerror(errno));
    if (pid == 0)
    {
        // Only async-signal-safe calls from here to exec.
        if (group)
            ::setpgid(0, 0);
        ::prctl(PR_SET_PDEATHSIG, death_signal);
        if (::getppid() != parent)
            ::_exit(1);
        int in = ::open("/dev/null", O_RDONLY);
        int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (in < 0 || out < 0)
            ::_exit(126);
        ::dup2(in, 0);
        ::dup2(out, 1);
        ::dup2(out, 2);
        for (int fd = 3; fd < 4096; ++fd)
            ::close(fd);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD})
            ::signal(sig, SIG_DFL);
        ::execve(argv_c[0], argv_c.data(), env_c.data());
        ::_exit(127);
    }
    return pid;
}

bool reap(pid_t pid, clock_type::time_point deadline)
{
    for (;;)
    {
        int status = 0;
        pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD))
            return true;
        if (clock_type::now() >= deadline)
            return false;
        std::this_thread::sleep_for(20ms);
    }
}

void stop_process(pid_t pid, bool group, std::chrono::milliseconds timeout, const char* what)
{
    if (pid <= 0)
        return;
    ::kill(pid, SIGTERM);
    if (reap(pid, clock_type::now() + timeout))
    {
        if (group) // stragglers of the group (the VM's helpers) if the script went first
            ::kill(-pid, SIGKILL);
        return;
    }
    std::fprintf(stderr, "rabbitmq_server: %s (pid %ld) ignored SIGTERM; killing it\n", what, static_cast<long>(pid));
    ::kill(group ? -pid : pid, SIGKILL);
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR)
    {
    }
}

// Connects to 127.0.0.1:`port`, sends `hello`, reads until `done(reply)` or EOF/timeout.
std::string exchange(std::uint16_t port, std::string_view hello, bool (*done)(const std::string&))
{
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return {};
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string reply;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        ::send(fd, hello.data(), hello.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(hello.size()))
    {
        const auto deadline = clock_type::now() + 10s;
        while (!done(reply) && clock_type::now() < deadline)
        {
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 200) <= 0)
                continue;
            char buffer[4096];
            ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
            if (n <= 0)
                break;
            reply.append(buffer, static_cast<std::size_t>(n));
        }
    }
    ::close(fd);
    return reply;
}

bool amqp_ready(std::uint16_t port)
{
    // The broker answers the protocol header with connection.start: method frame, channel 0,
    // class 10, method 10.
    auto reply =
        exchange(port, std::string_view("AMQP\0\0\x09\x01", 8), [](const std::string& r) { return r.size() >= 11; });
    return reply.size() >= 11 && reply[0] == 1 && reply.compare(7, 4, std::string("\0\x0a\0\x0a", 4)) == 0;
}

bool stomp_ready(std::uint16_t port)
{
    auto reply =
        exchange(port, std::string_view("CONNECT\naccept-version:1.2\nhost:/\nlogin:guest\npasscode:guest\n\n\0", 63),
                 [](const std::string& r) { return r.find('\0') != std::string::npos; });
    return reply.rfind("CONNECTED\n", 0) == 0;
}

std::string tail_of(const std::string& path, std::size_t n = 3000)
{
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    auto text = s.str();
    return text.size() > n ? "..." + text.substr(text.size() - n) : text;
}

std::size_t file_size(const std::string& path)
{
    struct stat st
    {
    };
    return ::stat(path.c_str(), &st) == 0 ? static_cast<std::size_t>(st.st_size) : 0;
}

// True once the broker logged, after `offset`, that it finished booting.
bool booted(const std::string& path, std::size_t offset)
{
    std::ifstream in(path);
    in.seekg(static_cast<std::streamoff>(offset));
    std::stringstream s;
    s << in.rdbuf();
    return s.str().find("Server startup complete") != std::string::npos;
}

int remove_entry(const char* path, const struct stat*, int, struct FTW*)
{
    ::remove(path);
    return 0;
}

const char* server_path()
{
    const char* env = std::getenv("COURIER_RABBITMQ_SERVER");
    return env && *env ? env : "/usr/lib/rabbitmq/bin/rabbitmq-server";
}

} // namespace

rabbitmq_server::rabbitmq_server(rabbitmq_options options)
    : options_(std::move(options))
{
    if (options_.server.empty())
        options_.server = server_path();
    if (::access(options_.server.c_str(), X_OK) != 0 || ::access("/usr/bin/epmd", X_OK) != 0)
        fail("RabbitMQ is not installed (" + options_.server +
             " or /usr/bin/epmd missing); run tools/install-deps.sh --tests from the repository root");
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/courier-rabbitmq.XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr)
        fail("mkdtemp " + pattern + ": " + std::strerror(errno));
    folder_ = pattern;
    static std::atomic<int> serial{0};
    node_ = "courier-test-" + std::to_string(::getpid()) + "-" + std::to_string(++serial) + "@localhost";
    auto ports = free_ports();
    epmd_port_ = ports[0];
    amqp_port_ = ports[1];
    stomp_port_ = ports[2];
    dist_port_ = ports[3];
    {
        std::ofstream conf(folder_ + "/rabbitmq.conf");
        conf << "listeners.tcp.1 = 127.0.0.1:" << amqp_port_ << "\n"
             << "stomp.listeners.tcp.1 = 127.0.0.1:" << stomp_port_
             << "\n"
             // A test machine's /tmp may be small; the default limit (50 MB) raises a disk
             // alarm that blocks every publisher.
             << "disk_free_limit.absolute = 1MB\n"
             << "log.console = false\nlog.file.level = info\n";
        std::ofstream(folder_ + "/enabled_plugins") << "[rabbitmq_stomp].\n";
    }
    try
    {
        epmd_pid_ = spawn({"/usr/bin/epmd", "-port", std::to_string(epmd_port_), "-address", "127.0.0.1"},
                          {"PATH=/usr/bin:/bin"}, folder_ + "/epmd.log", SIGKILL, false);
        const auto deadline = clock_type::now() + 30s;
        // epmd is up once it accepts a connection.
        for (;;)
        {
            int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            sockaddr_in a{};
            a.sin_family = AF_INET;
            a.sin_port = htons(epmd_port_);
            a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
            ::close(fd);
            if (up)
                break;
            if (clock_type::now() > deadline || reap(epmd_pid_, clock_type::now()))
                fail("epmd did not start: " + tail_of(folder_ + "/epmd.log"));
            std::this_thread::sleep_for(20ms);
        }
        start_broker();
    }
    catch (...)
    {
        stop();
        throw;
    }
}

rabbitmq_server::~rabbitmq_server()
{
    stop();
}

std::string rabbitmq_server::amqp_url() const
{
    return "amqp://guest:guest@127.0.0.1:" + std::to_string(amqp_port_) + "/";
}

std::string rabbitmq_server::stomp_url() const
{
    return "stomp://guest:guest@127.0.0.1:" + std::to_string(stomp_port_) + "/";
}

void rabbitmq_server::start_broker()
{
    if (broker_pid_ > 0)
        return;
    const std::string epmd = std::to_string(epmd_port_);
    std::vector<std::string> env = {
        "PATH=/usr/bin:/bin:/usr/sbin:/sbin",
        "HOME=" + folder_, // the Erlang cookie goes here
        "LANG=C.UTF-8",
        "RABBITMQ_NODENAME=" + node_,
        "RABBITMQ_NODE_IP_ADDRESS=127.0.0.1",
        "RABBITMQ_NODE_PORT=" + std::to_string(amqp_port_),
        "RABBITMQ_DIST_PORT=" + std::to_string(dist_port_),
        "RABBITMQ_MNESIA_BASE=" + folder_ + "/mnesia",
        "RABBITMQ_LOG_BASE=" + folder_ + "/log",
        "RABBITMQ_CONFIG_FILE=" + folder_ + "/rabbitmq.conf",
        "RABBITMQ_ADVANCED_CONFIG_FILE=" + folder_ + "/advanced.config",
        "RABBITMQ_CONF_ENV_FILE=" + folder_ + "/rabbitmq-env.conf",
        "RABBITMQ_ENABLED_PLUGINS_FILE=" + folder_ + "/enabled_plugins",
        "RABBITMQ_PID_FILE=" + folder_ + "/broker.pid",
        "ERL_EPMD_PORT=" + epmd,
        "ERL_EPMD_ADDRESS=127.0.0.1",
        // The distribution listener on loopback only; no epmd of the VM's own.
        "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=-kernel inet_dist_use_interface {127,0,0,1} -start_epmd false",
    };
    // A restart appends to the same log: only what this start writes counts.
    const std::string log = folder_ + "/log/" + node_ + ".log";
    const auto log_start = file_size(log);
    // SIGTERM when the test dies: the start script stops the VM on SIGTERM.
    broker_pid_ = spawn({options_.server}, env, folder_ + "/server.out", SIGTERM, true);
    const auto deadline = clock_type::now() + options_.start_timeout;
    for (;;)
    {
        if (reap(broker_pid_, clock_type::now()))
        {
            broker_pid_ = -1;
            fail("the broker exited during start-up; its log says:\n" + tail_of(folder_ + "/server.out") + "\n" +
                 tail_of(folder_ + "/log/" + node_ + ".log"));
        }
        // The listeners open before the broker has finished booting; a connection taken then
        // can stall until boot completes. Ready means: boot complete, and both answer.
        if (booted(log, log_start) && amqp_ready(amqp_port_) && stomp_ready(stomp_port_))
            return;
        if (clock_type::now() > deadline)
        {
            std::string log = tail_of(folder_ + "/log/" + node_ + ".log");
            stop_broker();
            fail("the broker was not ready within " + std::to_string(options_.start_timeout.count()) +
                 " ms; its log says:\n" + log);
        }
        std::this_thread::sleep_for(200ms);
    }
}

void rabbitmq_server::stop_broker() noexcept
{
    stop_process(broker_pid_, true, options_.stop_timeout, "the broker");
    broker_pid_ = -1;
}

void rabbitmq_server::restart()
{
    stop_broker();
    start_broker();
}

std::string rabbitmq_server::ctl(const std::string& arguments) const
{
    const std::string command = "env HOME='" + folder_ + "' ERL_EPMD_PORT=" + std::to_string(epmd_port_) +
                                " ERL_EPMD_ADDRESS=127.0.0.1 RABBITMQ_NODENAME='" + node_ +
                                "' /usr/lib/rabbitmq/bin/rabbitmqctl -n '" + node_ + "' " + arguments + " 2>&1";
    FILE* p = ::popen(command.c_str(), "r");
    if (p == nullptr)
        fail("popen rabbitmqctl");
    std::string out;
    char buffer[4096];
    while (std::size_t n = std::fread(buffer, 1, sizeof buffer, p))
        out.append(buffer, n);
    int status = ::pclose(p);
    if (status != 0)
        fail("rabbitmqctl " + arguments + " failed: " + out);
    return out;
}

void rabbitmq_server::stop() noexcept
{
    stop_broker();
    stop_process(epmd_pid_, false, 5s, "epmd");
    epmd_pid_ = -1;
    if (!folder_.empty())
    {
        ::nftw(folder_.c_str(), remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        folder_.clear();
    }
}

rabbitmq_server& shared_rabbitmq()
{
    static rabbitmq_server server;
    return server;
}

} // namespace courier_test
