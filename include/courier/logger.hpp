// Logging: a level threshold and a sink function.
//
// Every processing step (received, translated, handled, acked, retried, released,
// failed) is logged with the route name and the message id. Formatting happens only
// when the level is enabled, so a disabled debug line costs one comparison. The default
// sink writes one readable line per event to stderr; pass your own sink to forward to
// spdlog, syslog or a test's vector.
#ifndef COURIER_LOGGER_HPP
#define COURIER_LOGGER_HPP

#include <fmt/core.h>

#include <chrono>
#include <functional>
#include <span>
#include <string>
#include <string_view>

namespace courier {

enum class log_level
{
    trace,
    debug,
    info,
    warning,
    error,
    off,
};

/// The short upper-case name of a level ("DEBUG", "INFO", ...).
std::string_view to_string(log_level level) noexcept;

/// A named value attached to a log event, for structured sinks.
struct log_field
{
    std::string_view name{};
    std::string_view value{};
};

/// One log event as the sink receives it. `route` and `message_id` are empty for
/// events that do not concern a route or a message.
struct log_record
{
    log_level level{};
    std::string_view route{};
    std::string_view message_id{};
    std::string_view text{};
    std::span<const log_field> fields{};
};

/// How the default sinks write a line.
enum class log_format
{
    /// "2026-11-25T10:00:00.123Z INFO  [route] id=... text", for people.
    text,
    /// One JSON object per line, for CloudWatch, Loki or ELK:
    /// {"time":"2026-11-25T10:00:00.123Z","level":"info","route":"orders",
    ///  "message_id":"...","text":"...","fields":{...}}
    json,
};

/// A threshold plus a sink.
///
/// Thread safety: `log` may be called from any thread; the sink must be thread-safe
/// if the io_context runs on several threads (the default sink is).
class logger
{
public:
    using sink_type = std::function<void(const log_record&)>;

    /// Logs at `level` and above to stderr, in `format`.
    explicit logger(log_level level = log_level::info, log_format format = log_format::text);
    logger(log_level level, sink_type sink);

    bool enabled(log_level level) const noexcept { return level >= level_ && level_ != log_level::off; }
    log_level level() const noexcept { return level_; }

    template <class... Args>
    void log(log_level level, std::string_view route, std::string_view message_id, fmt::format_string<Args...> format,
             Args&&... args) const
    {
        if (enabled(level))
            vlog(level, route, message_id, format, fmt::make_format_args(args...));
    }

    void vlog(log_level level, std::string_view route, std::string_view message_id, fmt::string_view format,
              fmt::format_args args) const;

    /// Writes "2026-11-25T10:00:00.123Z INFO  [route] id=... text" to stderr.
    static void stderr_sink(const log_record& record);
    /// Writes the record as one JSON object on a line to stderr (see `log_format::json`).
    static void json_stderr_sink(const log_record& record);
    /// The JSON line `json_stderr_sink` writes, without its newline (for tests and sinks of
    /// your own). Text that is not valid UTF-8 is written with U+FFFD in its place.
    static std::string to_json(const log_record& record, std::chrono::system_clock::time_point at);

private:
    log_level level_;
    sink_type sink_;
};

} // namespace courier

#endif
