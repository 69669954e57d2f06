// The logger's out-of-line parts: formatting into a buffer and the default stderr sink.
#include <courier/logger.hpp>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>
#include <cstdio>

namespace courier {

std::string_view to_string(log_level level) noexcept
{
    switch (level)
    {
    case log_level::trace: return "TRACE";
    case log_level::debug: return "DEBUG";
    case log_level::info: return "INFO";
    case log_level::warning: return "WARN";
    case log_level::error: return "ERROR";
    case log_level::off: return "OFF";
    }
    return "?";
}

logger::logger(log_level level) : logger(level, &logger::stderr_sink) {}

logger::logger(log_level level, sink_type sink) : level_(level), sink_(std::move(sink))
{
    if (!sink_)
        sink_ = &logger::stderr_sink;
}

void logger::vlog(log_level level,
                  std::string_view route,
                  std::string_view message_id,
                  fmt::string_view format,
                  fmt::format_args args) const
{
    if (!enabled(level))
        return;
    fmt::memory_buffer text;
    fmt::vformat_to(std::back_inserter(text), format, args);
    sink_(log_record{level, route, message_id, std::string_view(text.data(), text.size())});
}

void logger::stderr_sink(const log_record& record)
{
    const auto now = std::chrono::system_clock::now();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        now.time_since_epoch()) % 1000;
    fmt::memory_buffer line;
    fmt::format_to(std::back_inserter(line),
                   "{:%Y-%m-%dT%H:%M:%S}.{:03}Z {:<5}",
                   std::chrono::floor<std::chrono::seconds>(now),
                   ms.count(),
                   to_string(record.level));
    if (!record.route.empty())
        fmt::format_to(std::back_inserter(line), " [{}]", record.route);
    if (!record.message_id.empty())
        fmt::format_to(std::back_inserter(line), " id={}", record.message_id);
    fmt::format_to(std::back_inserter(line), " {}\n", record.text);
    // One fwrite per line: stdio locks the stream, so lines from threads do not mix.
    std::fwrite(line.data(), 1, line.size(), stderr);
}

} // namespace courier
