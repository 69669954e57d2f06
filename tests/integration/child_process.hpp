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

} // namespace courier_test

#endif
