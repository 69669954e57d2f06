// Child processes for integration tests: started with posix_spawn (stdin and stdout on given
// descriptors, stderr to a file), stopped and reaped by pid. POSIX only.
#ifndef COURIER_TESTS_INTEGRATION_CHILD_PROCESS_HPP
#define COURIER_TESTS_INTEGRATION_CHILD_PROCESS_HPP

#include <chrono>
#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace courier_test {

/// The child's environment: ours, minus the names `extra` sets, plus `extra`.
std::vector<std::string> child_environment(const std::vector<std::pair<std::string, std::string>>& extra);

/// Spawns `argv` (argv[0] a path) with stdin and stdout on the given descriptors and stderr
/// appended to `log_file` (or ours, if empty). Throws std::runtime_error if it cannot start.
pid_t spawn(std::vector<std::string> argv, std::vector<std::string> env, int stdin_fd, int stdout_fd,
            const std::string& log_file);

/// Polls for the end of `pid` until `deadline` (one look if it has passed). True once the
/// process is reaped; `status` is then its wait status, or -1 if someone else reaped it.
bool wait_until(pid_t pid, std::chrono::steady_clock::time_point deadline, int& status);

/// "exited with status N", "was killed by signal N (name)", ...
std::string describe_status(int status);

/// The whole content of the file at `path` ("" if it cannot be read).
std::string read_file(const std::string& path);

/// A child process with stdin from /dev/null, stdout to `out_file` and stderr to `err_file`
/// (both truncated), and our environment plus `extra_environment` (see child_environment).
/// One that is still running when this object goes is killed (SIGKILL) and reaped, so a
/// failed test leaves no process behind.
class child
{
public:
    child(std::vector<std::string> argv, std::string out_file, std::string err_file,
          const std::vector<std::pair<std::string, std::string>>& extra_environment = {});
    ~child();
    child(const child&) = delete;
    child& operator=(const child&) = delete;

    /// What it wrote to stdout and stderr so far.
    std::string out() const { return read_file(out_file_); }
    std::string err() const { return read_file(err_file_); }
    /// Whether it ended (then reaped; `status()` says how).
    bool ended();
    /// Sends `signal` (unless it ended) and waits up to `limit` for the end; `status()` then
    /// says how it ended. False if it did not end in time.
    bool stop(int signal, std::chrono::milliseconds limit);
    /// Waits up to `limit` for it to end on its own.
    bool wait(std::chrono::milliseconds limit);
    /// describe_status of its end ("running" before).
    std::string status() const;

private:
    pid_t pid_ = -1;
    bool ended_ = false;
    int status_ = 0;
    std::string out_file_;
    std::string err_file_;
};

} // namespace courier_test

#endif
