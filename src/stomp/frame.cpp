// The STOMP 1.2 frame encoder and the incremental decoder (see frame.hpp).
#include "stomp/frame.hpp"

#include "courier/error.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace courier::stomp {
namespace {

[[noreturn]] void malformed(const std::string& what)
{
    throw error(errc::bad_response, "malformed STOMP frame: " + what);
}

// Appends `text` to `out` escaped, the runs between special octets whole (a loop of our
// own: string_view::find_first_of calls memchr on the set for every octet).
void append_escaped(std::string& out, std::string_view text)
{
    auto special = [](char c) { return c == '\\' || c == '\r' || c == '\n' || c == ':'; };
    auto run = text.begin();
    for (auto it = std::find_if(run, text.end(), special); it != text.end();
         it = std::find_if(run, text.end(), special))
    {
        out.append(run, it);
        switch (*it)
        {
        case '\\': out += "\\\\"; break;
        case '\r': out += "\\r"; break;
        case '\n': out += "\\n"; break;
        default: out += "\\c"; break;
        }
        run = it + 1;
    }
    out.append(run, text.end());
}

// Appends one escaped header line.
void append_escaped_header(std::string& out, std::string_view name, std::string_view value)
{
    append_escaped(out, name);
    out += ':';
    append_escaped(out, value);
    out += '\n';
}

// Appends `text` to `out` with the STOMP escapes undone; false on an undefined escape.
// Appends the runs between backslashes whole: most headers have none.
bool append_unescaped(std::string& out, std::string_view text)
{
    for (std::size_t slash = text.find('\\'); slash != std::string_view::npos; slash = text.find('\\'))
    {
        out.append(text.substr(0, slash));
        if (slash + 1 == text.size())
            return false;
        switch (text[slash + 1])
        {
        case '\\': out += '\\'; break;
        case 'r': out += '\r'; break;
        case 'n': out += '\n'; break;
        case 'c': out += ':'; break;
        default: return false;
        }
        text.remove_prefix(slash + 2);
    }
    out.append(text);
    return true;
}

std::string printable(std::string_view text)
{
    std::string out;
    for (char c : text.substr(0, 40))
        out += (c >= 0x20 && c < 0x7f) ? c : '?';
    return out;
}

} // namespace

std::string_view frame::header(std::string_view name) const noexcept
{
    for (const auto& [n, v] : headers)
        if (n == name)
            return v;
    return {};
}

std::string frame::take_header(std::string_view name) noexcept
{
    for (auto& [n, v] : headers)
        if (n == name)
            return std::move(v);
    return {};
}

bool frame::has_header(std::string_view name) const noexcept
{
    return std::any_of(headers.begin(), headers.end(), [&](const auto& h) { return h.first == name; });
}

bool is_unescaped_command(std::string_view command) noexcept
{
    return command == "CONNECT" || command == "CONNECTED" || command == "STOMP";
}

void encode(const frame& f, std::string& out)
{
    if (f.command.empty())
        throw error(errc::bad_configuration, "STOMP frame without a command");
    for (char c : f.command)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            throw error(errc::bad_configuration, "STOMP command holds a control character");
    const bool raw = is_unescaped_command(f.command);
    out += f.command;
    out += '\n';
    for (const auto& [name, value] : f.headers)
    {
        if (raw)
        {
            // These frames cannot escape: a line break would end the header, a colon in the
            // name would split it elsewhere. The value is not quoted in the error: it may be
            // a passcode.
            auto breaks = [](std::string_view s) { return s.find_first_of("\r\n") != s.npos; };
            if (breaks(name) || breaks(value) || name.find(':') != std::string::npos)
                throw error(errc::bad_configuration,
                            "STOMP " + f.command + " header '" + printable(name) +
                                "' holds a line break or its name a colon, which this frame cannot carry");
            out += name;
            out += ':';
            out += value;
            out += '\n';
        }
        else
            append_escaped_header(out, name, value);
    }
    if (!f.body.empty() && !f.has_header("content-length"))
    {
        out += "content-length:";
        out += std::to_string(f.body.size());
        out += '\n';
    }
    out += '\n';
    out += f.body;
    out += '\0';
}

std::string encode(const frame& f)
{
    std::string out;
    encode(f, out);
    return out;
}

void encode(std::string_view command, std::initializer_list<std::pair<std::string_view, std::string_view>> headers,
            std::string& out)
{
    out += command;
    out += '\n';
    for (const auto& [name, value] : headers)
        append_escaped_header(out, name, value);
    out += '\n';
    out += '\0';
}

decoder::decoder(decoder_limits limits)
    : limits_(limits)
{
}

void decoder::feed(std::string_view bytes)
{
    // Drop what was decoded before growing the buffer, when that moves little: at most as
    // many bytes as are left, so the cost stays linear in what is received.
    if (start_ > 0 && (start_ == buffer_.size() || start_ >= buffer_.size() - start_))
    {
        buffer_.erase(0, start_);
        scanned_ -= std::min(scanned_, start_);
        body_start_ -= std::min(body_start_, start_);
        start_ = 0;
    }
    buffer_.append(bytes);
}

decoder::result decoder::next(frame& out)
{
    if (!have_headers_)
    {
        if (start_ == buffer_.size())
            return result::need_more;
        // Heart-beats: end-of-lines between frames.
        if (buffer_[start_] == '\n')
        {
            scanned_ = ++start_;
            return result::heartbeat;
        }
        if (buffer_[start_] == '\r')
        {
            if (start_ + 1 == buffer_.size())
                return result::need_more;
            if (buffer_[start_ + 1] != '\n')
                malformed("carriage return without a line feed between frames");
            start_ += 2;
            scanned_ = start_;
            return result::heartbeat;
        }
        // The header section ends at the first empty line: LF LF or LF CR LF.
        std::size_t from = std::max(scanned_, start_);
        std::size_t end = std::string::npos;
        for (std::size_t lf = buffer_.find('\n', from); lf != std::string::npos; lf = buffer_.find('\n', lf + 1))
        {
            if (lf + 1 < buffer_.size() && buffer_[lf + 1] == '\n')
            {
                end = lf;
                body_start_ = lf + 2;
                break;
            }
            if (lf + 2 < buffer_.size() && buffer_[lf + 1] == '\r' && buffer_[lf + 2] == '\n')
            {
                end = lf;
                body_start_ = lf + 3;
                break;
            }
            if (lf + 2 >= buffer_.size())
                break; // the line after it is not all here yet: look again from this LF
        }
        if (end == std::string::npos)
        {
            if (buffer_.size() - start_ > limits_.max_header_bytes)
                malformed("header section longer than " + std::to_string(limits_.max_header_bytes) + " octets");
            // Rescan from the last LF seen at most: the empty line may start there.
            std::size_t last_lf = buffer_.rfind('\n');
            scanned_ = (last_lf == std::string::npos || last_lf < start_) ? buffer_.size() : last_lf;
            return result::need_more;
        }
        if (end - start_ > limits_.max_header_bytes)
            malformed("header section longer than " + std::to_string(limits_.max_header_bytes) + " octets");
        parse_headers(pending_, end);
        have_headers_ = true;
        scanned_ = body_start_;
    }

    std::size_t body_end = 0;
    if (has_content_length_)
    {
        if (buffer_.size() - body_start_ < content_length_ + 1)
            return result::need_more;
        body_end = body_start_ + content_length_;
        if (buffer_[body_end] != '\0')
            malformed("no NUL after the " + std::to_string(content_length_) + "-octet body of " + pending_.command);
    }
    else
    {
        body_end = buffer_.find('\0', std::max(scanned_, body_start_));
        if (body_end == std::string::npos)
        {
            if (buffer_.size() - body_start_ > limits_.max_body_bytes)
                malformed(pending_.command + " body longer than " + std::to_string(limits_.max_body_bytes) + " octets");
            scanned_ = buffer_.size();
            return result::need_more;
        }
        if (body_end - body_start_ > limits_.max_body_bytes)
            malformed(pending_.command + " body longer than " + std::to_string(limits_.max_body_bytes) + " octets");
    }
    pending_.body.assign(buffer_, body_start_, body_end - body_start_);
    out = std::move(pending_);
    pending_ = frame{};
    have_headers_ = false;
    start_ = scanned_ = body_end + 1;
    return result::frame;
}

void decoder::parse_headers(frame& out, std::size_t header_end)
{
    out.command.clear();
    out.headers.clear();
    // A broker's MESSAGE carries about a dozen headers: one allocation instead of five.
    out.headers.reserve(std::min<std::size_t>(limits_.max_headers, 16));
    has_content_length_ = false;
    content_length_ = 0;
    std::string_view section(buffer_.data() + start_, header_end - start_);
    bool first = true;
    bool raw = false;
    while (!section.empty() || first)
    {
        std::size_t lf = section.find('\n');
        std::string_view line = section.substr(0, lf);
        section.remove_prefix(lf == std::string_view::npos ? section.size() : lf + 1);
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        if (first)
        {
            first = false;
            if (line.empty())
                malformed("empty command line");
            for (char c : line)
                if (c < 'A' || c > 'Z')
                    malformed("command '" + printable(line) + "' is not upper-case letters");
            out.command.assign(line);
            raw = is_unescaped_command(out.command);
            continue;
        }
        if (out.headers.size() == limits_.max_headers)
            malformed("more than " + std::to_string(limits_.max_headers) + " headers in " + out.command);
        std::size_t colon = line.find(':');
        if (colon == std::string_view::npos)
            malformed("header line without a colon in " + out.command + ": '" + printable(line) + "'");
        auto& [name, value] = out.headers.emplace_back();
        if (raw)
        {
            name.assign(line.substr(0, colon));
            value.assign(line.substr(colon + 1));
        }
        else if (!append_unescaped(name, line.substr(0, colon)) || !append_unescaped(value, line.substr(colon + 1)))
            malformed("undefined escape sequence in a header of " + out.command + ": '" + printable(line) + "'");
        // The first content-length counts, like every repeated header.
        if (name == "content-length" && !has_content_length_)
        {
            const char* b = value.data();
            const char* e = b + value.size();
            auto [p, ec] = std::from_chars(b, e, content_length_);
            if (value.empty() || ec != std::errc{} || p != e)
                malformed("content-length '" + printable(value) + "' is not a number");
            if (content_length_ > limits_.max_body_bytes)
                malformed(out.command + " body of " + value + " octets is over the limit of " +
                          std::to_string(limits_.max_body_bytes));
            has_content_length_ = true;
        }
    }
}

} // namespace courier::stomp
