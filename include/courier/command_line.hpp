// A program's command line: Boost.Program_options flags, each with an environment fallback,
// `--help`, and the exit statuses a shell expects.
//
//     courier::command_line cli("courier-load produce", "Sends messages to a queue.");
//     cli.add_options()("messages", po::value(&count)->value_name("N"), "messages to send");
//     cli.parse_or_exit(argc, argv);   // exits 0 after --help, 2 after a bad flag
//
// Every flag `--some-flag` falls back to the environment variable `COURIER_SOME_FLAG`; a flag
// given on the command line wins over the environment, which wins over the default. A bad
// flag or value, from either, ends the parse with a message naming it (exit status 2).
// `courier::daemon` (daemon.hpp) is a command line preloaded with the flags every courier
// service shares.
#ifndef COURIER_COMMAND_LINE_HPP
#define COURIER_COMMAND_LINE_HPP

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/value_semantic.hpp>
#include <boost/program_options/variables_map.hpp>

#include <functional>
#include <iosfwd>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace courier {

/// The exit status of a program given a bad flag or value (as getopt programs and argparse use).
inline constexpr int exit_usage = 2;

/// A bad flag, value or combination of flags; `what()` says which and why. Thrown by the checks
/// a program adds (`command_line::add_check`) and reported by `parse` as exit status 2.
class usage_error : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

/// Reads one environment variable: its value, or nullopt when it is not set.
using environment_lookup = std::function<std::optional<std::string>(std::string_view name)>;

/// The process's environment (`getenv`).
std::optional<std::string> process_environment(std::string_view name);

/// The variable a flag falls back to: "sqs-queue-url" -> "COURIER_SQS_QUEUE_URL".
std::string environment_name(std::string_view flag);

/// Flags of one program (or one subcommand), parsed from its arguments and the environment.
///
/// Flags are Boost.Program_options options; bind them to variables of your own with
/// `po::value(&variable)` or read them from `values()` after `parse`. Switches are
/// `po::bool_switch()`; their environment variable takes 1/0, true/false, yes/no, on/off. A
/// flag whose value is a `std::vector` may be repeated; its environment variable may hold
/// several values separated by commas. Positional arguments are not accepted. An empty
/// environment variable counts as unset.
///
/// Thread safety: none; build and parse it in `main`.
class command_line
{
public:
    /// `program` names the program in the help and in errors ("sqs_worker", "courier-load
    /// consume"); `about` is printed by --help under the usage line.
    explicit command_line(std::string program, std::string about = {});

    /// Adds flags, as `options_description::add_options` does:
    /// `cli.add_options()("wait-time", po::value(&seconds)->default_value(20), "...")`.
    boost::program_options::options_description_easy_init add_options();

    /// Adds a check run after the flags are parsed and stored (before `parse` returns); it
    /// throws `usage_error` to reject a combination ("--body and --body-file exclude each
    /// other"). Checks run in the order they were added.
    void add_check(std::function<void(const boost::program_options::variables_map&)> check);

    /// Parses `args` (argv without the program name) with `environment` as fallback. Returns
    /// nullopt when the program goes on, or the status it must exit with now: 0 after --help
    /// (the help went to `out`), `exit_usage` after a bad flag, value or check (one message
    /// on `err`, naming the flag, and a hint to --help).
    std::optional<int> parse(std::span<const std::string> args, const environment_lookup& environment,
                             std::ostream& out, std::ostream& err);

    /// Parses the process's arguments and environment; after --help or a bad flag it prints
    /// as `parse` does (to stdout and stderr) and ends the process (`std::exit`) with 0 or 2.
    void parse_or_exit(int argc, const char* const argv[]);

    /// The values after `parse` (defaults included).
    const boost::program_options::variables_map& values() const noexcept { return values_; }

    /// True when `flag` was given on the command line or in the environment (not defaulted).
    bool given(std::string_view flag) const;

    /// Text --help prints after the flags and the environment note (exit statuses, examples);
    /// by default, that a bad flag exits with status 2.
    void set_epilogue(std::string text) { epilogue_ = std::move(text); }

    /// What --help prints: usage line, about text, flags, environment and exit statuses.
    std::string help() const;

    const std::string& program() const noexcept { return program_; }

private:
    void parse_or_throw(std::span<const std::string> args, const environment_lookup& environment);

    std::string program_;
    std::string about_;
    std::string epilogue_ = "Exit status 2: a bad flag or value.";
    boost::program_options::options_description flags_;
    std::vector<std::function<void(const boost::program_options::variables_map&)>> checks_;
    boost::program_options::variables_map values_;
};

} // namespace courier

#endif
