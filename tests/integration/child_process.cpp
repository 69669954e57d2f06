// Child processes for integration tests (see child_process.hpp).
#include "child_process.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <signal.h>
#include <spawn.h>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace courier_test {

namespace {

std::vector<char*> c_strings(std::vector<std::string>& strings)
{
    std::vector<char*> result;
    for (auto& s : strings)
        result.push_back(s.data());
    result.push_back(nullptr);
    return result;
}

} // namespace

// The child's environment: ours, minus the names `extra` sets, plus `extra`.
std::vector<std::string> child_environment(const std::vector<std::pair<std::string, std::string>>& extra)
{
    std::vector<std::string> result;
    for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry)
    {
        std::string_view text(*entry);
        std::string_view name = text.substr(0, text.find('='));
        bool replaced = std::any_of(extra.begin(), extra.end(), [&](const auto& kv) { return kv.first == name; });
        if (!replaced)
            result.emplace_back(text);
    }
    for (const auto& [name, value] : extra)
        result.push_back(name + "=" + value);
    return result;
}

// Spawns `argv` with stdin and stdout on the given pipe ends and stderr on `log_file` (or
// ours). The signal mask and the dispositions of the stop signals are reset: a test program
// that blocks SIGTERM (e.g. to handle it on a thread) would otherwise pass that on, and the
// server would ignore our stop request until SIGKILL.
pid_t spawn(std::vector<std::string> argv, std::vector<std::string> env, int stdin_fd, int stdout_fd,
            const std::string& log_file)
{
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawnattr_init(&attributes);

    ::posix_spawn_file_actions_adddup2(&actions, stdin_fd, 0);
    ::posix_spawn_file_actions_adddup2(&actions, stdout_fd, 1);
    if (!log_file.empty())
        ::posix_spawn_file_actions_addopen(&actions, 2, log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    // Descriptors the test program left inheritable (a listening socket, the read end of
    // some other child's pipe) would otherwise live on in the server as long as it runs.
    ::posix_spawn_file_actions_addclosefrom_np(&actions, 3);
#endif

    sigset_t none;
    sigemptyset(&none);
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGPIPE})
        sigaddset(&stop_signals, sig);
    ::posix_spawnattr_setsigmask(&attributes, &none);
    ::posix_spawnattr_setsigdefault(&attributes, &stop_signals);
    ::posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

    auto argv_c = c_strings(argv);
    auto env_c = c_strings(env);
    pid_t pid = -1;
    int error = ::posix_spawn(&pid, argv[0].c_str(), &actions, &attributes, argv_c.data(), env_c.data());
    ::posix_spawn_file_actions_destroy(&actions);
    ::posix_spawnattr_destroy(&attributes);
    if (error != 0)
        throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(error));
    return pid;
}

std::string describe_status(int status)
{
    if (status == -1) // see wait_until()
        return "ended (reaped elsewhere, status unknown)";
    if (WIFEXITED(status))
        return "exited with status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        return "was killed by signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
    return "ended with wait status " + std::to_string(status);
}

// Polls for the end of `pid` until `deadline` (one look if it has passed). True once the
// process is reaped; `status` is then its wait status, or -1 if someone else reaped it
// (ECHILD: e.g. SIGCHLD set to SIG_IGN by the test program).
bool wait_until(pid_t pid, std::chrono::steady_clock::time_point deadline, int& status)
{
    for (;;)
    {
        pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return true;
        if (r < 0 && errno == ECHILD)
        {
            status = -1;
            return true;
        }
        if (r < 0 && errno != EINTR)
            return false;
        if (std::chrono::steady_clock::now() >= deadline)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

std::string read_file(const std::string& path)
{
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

child::child(std::vector<std::string> argv, std::string out_file, std::string err_file,
             const std::vector<std::pair<std::string, std::string>>& extra_environment)
    : out_file_(std::move(out_file)),
      err_file_(std::move(err_file))
{
    ::unlink(err_file_.c_str()); // spawn appends
    const int out_fd = ::open(out_file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (out_fd < 0 || null_fd < 0)
    {
        const int e = errno;
        if (out_fd >= 0)
            ::close(out_fd);
        if (null_fd >= 0)
            ::close(null_fd);
        throw std::runtime_error("cannot open " + out_file_ + " or /dev/null: " + std::strerror(e));
    }
    try
    {
        pid_ = spawn(std::move(argv), child_environment(extra_environment), null_fd, out_fd, err_file_);
    }
    catch (...)
    {
        ::close(out_fd);
        ::close(null_fd);
        throw;
    }
    ::close(out_fd);
    ::close(null_fd);
}

child::~child()
{
    if (!ended())
    {
        ::kill(pid_, SIGKILL);
        wait_until(pid_, std::chrono::steady_clock::now() + std::chrono::seconds(30), status_);
    }
}

bool child::ended()
{
    if (!ended_)
        ended_ = wait_until(pid_, std::chrono::steady_clock::now(), status_);
    return ended_;
}

bool child::wait(std::chrono::milliseconds limit)
{
    if (!ended_)
        ended_ = wait_until(pid_, std::chrono::steady_clock::now() + limit, status_);
    return ended_;
}

bool child::stop(int signal, std::chrono::milliseconds limit)
{
    if (!ended())
        ::kill(pid_, signal);
    return wait(limit);
}

std::string child::status() const
{
    return ended_ ? describe_status(status_) : "running";
}

} // namespace courier_test
