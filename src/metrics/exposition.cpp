// The Prometheus text exposition format (see exposition.hpp).
#include "metrics/exposition.hpp"

#include <fmt/format.h>

#include <cmath>

namespace courier::detail::metrics {

namespace {

// HELP text escapes backslash and newline; label values also the double quote.
void append_escaped(std::string& out, std::string_view text, bool quote)
{
    for (const char c : text)
    {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else if (quote && c == '"')
            out += "\\\"";
        else
            out += c;
    }
}

} // namespace

void exposition::family(std::string_view name, std::string_view type, std::string_view help)
{
    out_.append("# HELP ").append(name).append(" ");
    append_escaped(out_, help, false);
    out_.append("\n# TYPE ").append(name).append(" ").append(type).append("\n");
}

void exposition::write_labels(const labels& labels, std::string_view extra_name, std::string_view extra_value)
{
    if (labels.empty() && extra_name.empty())
        return;
    out_ += '{';
    bool first = true;
    auto one = [&](std::string_view name, std::string_view value) {
        if (!first)
            out_ += ',';
        first = false;
        out_.append(name).append("=\"");
        append_escaped(out_, value, true);
        out_ += '"';
    };
    for (const auto& [name, value] : labels)
        one(name, value);
    if (!extra_name.empty())
        one(extra_name, extra_value);
    out_ += '}';
}

void exposition::write_value(double value)
{
    if (std::isnan(value))
        out_ += "NaN";
    else if (std::isinf(value))
        out_ += value > 0 ? "+Inf" : "-Inf";
    else if (value == std::floor(value) && std::fabs(value) < 1e15)
        fmt::format_to(std::back_inserter(out_), "{}", static_cast<long long>(value));
    else
        fmt::format_to(std::back_inserter(out_), "{}", value);
}

void exposition::sample(std::string_view name, const labels& labels, double value)
{
    out_.append(name);
    write_labels(labels);
    out_ += ' ';
    write_value(value);
    out_ += '\n';
}

void exposition::histogram_samples(std::string_view name, const labels& labels, const histogram& h)
{
    const std::string bucket = std::string(name) + "_bucket";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < h.bounds().size(); ++i)
    {
        cumulative += h.bucket(i);
        out_.append(bucket);
        write_labels(labels, "le", fmt::format("{}", h.bounds()[i]));
        out_ += ' ';
        write_value(static_cast<double>(cumulative));
        out_ += '\n';
    }
    cumulative += h.bucket(h.bounds().size());
    out_.append(bucket);
    write_labels(labels, "le", "+Inf");
    out_ += ' ';
    // The +Inf bucket equals the count by definition; read once so they agree.
    write_value(static_cast<double>(cumulative));
    out_ += '\n';
    sample(std::string(name) + "_sum", labels, h.sum());
    sample(std::string(name) + "_count", labels, static_cast<double>(cumulative));
}

} // namespace courier::detail::metrics
