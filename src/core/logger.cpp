// The logger's out-of-line parts: formatting into a buffer and the default stderr sink.
#include <courier/logger.hpp>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

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

logger::logger(log_level level, log_format format)
    : logger(level, format == log_format::json ? &logger::json_stderr_sink : &logger::stderr_sink)
{
}

logger::logger(log_level level, sink_type sink)
    : level_(level),
      sink_(std::move(sink))
{
    if (!sink_)
        sink_ = &logger::stderr_sink;
}

void logger::vlog(log_level level, std::string_view route, std::string_view message_id, fmt::string_view format,
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
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
    fmt::memory_buffer line;
    fmt::format_to(std::back_inserter(line), "{:%Y-%m-%dT%H:%M:%S}.{:03}Z {:<5}",
                   std::chrono::floor<std::chrono::seconds>(now), ms.count(), to_string(record.level));
    if (!record.route.empty())
        fmt::format_to(std::back_inserter(line), " [{}]", record.route);
    if (!record.message_id.empty())
        fmt::format_to(std::back_inserter(line), " id={}", record.message_id);
    fmt::format_to(std::back_inserter(line), " {}\n", record.text);
    // One fwrite per line: stdio locks the stream, so lines from threads do not mix.
    std::fwrite(line.data(), 1, line.size(), stderr);
}

namespace {

// The length of the valid UTF-8 sequence starting at text[i], or 0 if it is not one.
std::size_t utf8_sequence(std::string_view text, std::size_t i)
{
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    const unsigned char c = byte(i);
    std::size_t n = 0;
    std::uint32_t min = 0;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4, min = 0x10000;
    else
        return 0;
    if (i + n > text.size())
        return 0;
    std::uint32_t code = c & (0x7F >> n);
    for (std::size_t k = 1; k < n; ++k)
    {
        if ((byte(i + k) & 0xC0) != 0x80)
            return 0;
        code = (code << 6) | (byte(i + k) & 0x3F);
    }
    if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF))
        return 0;
    return n;
}

// Appends `text` as a JSON string: quotes, backslashes and control characters escaped,
// invalid UTF-8 replaced by U+FFFD, so that every line parses.
void append_json_string(std::string& out, std::string_view text)
{
    out += '"';
    for (std::size_t i = 0; i < text.size();)
    {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x80)
        {
            switch (c)
            {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20 || c == 0x7F)
                    fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
                else
                    out += static_cast<char>(c);
            }
            ++i;
            continue;
        }
        if (const auto n = utf8_sequence(text, i))
        {
            out.append(text.substr(i, n));
            i += n;
        }
        else
        {
            out += "\xEF\xBF\xBD"; // U+FFFD
            ++i;
        }
    }
    out += '"';
}

std::string_view json_level(log_level level) noexcept
{
    switch (level)
    {
    case log_level::trace: return "trace";
    case log_level::debug: return "debug";
    case log_level::info: return "info";
    case log_level::warning: return "warning";
    case log_level::error: return "error";
    case log_level::off: return "off";
    }
    return "?";
}

} // namespace

std::string logger::to_json(const log_record& record, std::chrono::system_clock::time_point at)
{
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()) % 1000;
    std::string line = fmt::format(R"({{"time":"{:%Y-%m-%dT%H:%M:%S}.{:03}Z","level":"{}")",
                                   std::chrono::floor<std::chrono::seconds>(at), ms.count(), json_level(record.level));
    line += R"(,"route":)";
    append_json_string(line, record.route);
    line += R"(,"message_id":)";
    append_json_string(line, record.message_id);
    line += R"(,"text":)";
    append_json_string(line, record.text);
    line += R"(,"fields":{)";
    bool first = true;
    for (const auto& field : record.fields)
    {
        if (!first)
            line += ',';
        first = false;
        append_json_string(line, field.name);
        line += ':';
        append_json_string(line, field.value);
    }
    line += "}}";
    return line;
}

void logger::json_stderr_sink(const log_record& record)
{
    auto line = to_json(record, std::chrono::system_clock::now());
    line += '\n';
    // One fwrite per line: stdio locks the stream, so lines from threads do not mix.
    std::fwrite(line.data(), 1, line.size(), stderr);
}

} // namespace courier
