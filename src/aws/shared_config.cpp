// The shared-file INI parser, profile lookup and file location (see shared_config.hpp for the
// rules). Files are read whole and parsed as text, so the parser itself is sans-io and the
// tests feed it strings.
#include "aws/shared_config.hpp"

#include "courier/error.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <pwd.h>
#include <unistd.h>
#include <vector>

namespace courier::aws {
namespace {

constexpr std::string_view blanks = " \t\r\f\v";

bool is_blank(char c) noexcept
{
    return blanks.find(c) != std::string_view::npos;
}

std::string_view trim(std::string_view s) noexcept
{
    const auto first = s.find_first_not_of(blanks);
    if (first == std::string_view::npos)
        return {};
    return s.substr(first, s.find_last_not_of(blanks) - first + 1);
}

std::string lower(std::string_view s)
{
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
    return out;
}

// The line is never quoted: a mistyped `aws_secret_access_key` line holds the secret.
[[noreturn]] void fail(std::string_view file, std::size_t line, std::string_view problem)
{
    throw error(errc::bad_configuration, fmt::format("{}:{}: {}", file, line, problem));
}

// A '#' or ';' starts a comment in a value only after a blank: secret keys and session tokens
// never hold blanks, while values such as URLs may hold '#' or ';'.
std::string_view strip_value_comment(std::string_view value) noexcept
{
    for (std::size_t i = 1; i < value.size(); ++i)
        if ((value[i] == '#' || value[i] == ';') && is_blank(value[i - 1]))
            return value.substr(0, i);
    return value;
}

std::string home_directory()
{
    if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0')
        return home;
    // No HOME (services started by init systems): ask the password database.
    std::vector<char> buffer(16384);
    passwd entry{};
    passwd* found = nullptr;
    if (getpwuid_r(getuid(), &entry, buffer.data(), buffer.size(), &found) == 0 && found && found->pw_dir != nullptr)
        return found->pw_dir;
    return {};
}

} // namespace

ini_document parse_ini(std::string_view text, std::string_view file_name)
{
    ini_document doc;
    ini_section* section = nullptr;
    std::string* value = nullptr; // the value continuation lines extend
    std::size_t value_indent = 0; // indentation of the line that set it
    std::size_t line_no = 0;
    for (std::size_t pos = 0; pos <= text.size();)
    {
        auto end = text.find('\n', pos);
        if (end == std::string_view::npos)
            end = text.size();
        std::string_view line = text.substr(pos, end - pos);
        pos = end + 1;
        ++line_no;

        const auto indent = line.find_first_not_of(blanks);
        if (indent == std::string_view::npos)
        {
            value = nullptr; // a blank line ends a multi-line value
            continue;
        }
        const std::string_view content = trim(line);
        if (content.front() == '#' || content.front() == ';')
            continue;
        if (value != nullptr && indent > value_indent)
        {
            value->append("\n").append(content);
            continue;
        }
        value = nullptr;

        if (content.front() == '[')
        {
            const auto close = content.find(']');
            if (close == std::string_view::npos)
                fail(file_name, line_no, "section header without a closing ']'");
            const auto rest = trim(content.substr(close + 1));
            if (!rest.empty() && rest.front() != '#' && rest.front() != ';')
                fail(file_name, line_no, "unexpected text after the section header");
            const auto name = trim(content.substr(1, close - 1));
            if (name.empty())
                fail(file_name, line_no, "empty section name");
            section = &doc[std::string(name)];
            continue;
        }

        const auto equals = content.find('=');
        if (equals == std::string_view::npos)
            fail(file_name, line_no, "expected 'key = value', a [section] or a comment");
        if (section == nullptr)
            fail(file_name, line_no, "property before the first [section]");
        const auto key = trim(content.substr(0, equals));
        if (key.empty())
            fail(file_name, line_no, "property without a key");
        std::string& slot = (*section)[lower(key)];
        slot = trim(strip_value_comment(content.substr(equals + 1)));
        value = &slot;
        value_indent = indent;
    }
    return doc;
}

const ini_section* find_profile(const ini_document& doc, std::string_view profile, shared_file kind)
{
    if (kind == shared_file::credentials)
    {
        const auto it = doc.find(profile);
        return it == doc.end() ? nullptr : &it->second;
    }
    constexpr std::string_view prefix = "profile";
    const ini_section* plain_default = nullptr;
    for (const auto& [name, section] : doc)
    {
        const std::string_view n = name;
        if (n.size() > prefix.size() && n.starts_with(prefix) && is_blank(n[prefix.size()]) &&
            trim(n.substr(prefix.size())) == profile)
            return &section;
        if (n == "default" && profile == "default")
            plain_default = &section;
    }
    return plain_default;
}

std::string env_value(const char* name)
{
    const char* v = std::getenv(name);
    return v == nullptr ? std::string() : std::string(v);
}

std::string expand_home(std::string_view path)
{
    if (path == "~" || path.starts_with("~/"))
    {
        std::string home = home_directory();
        if (!home.empty())
            return home.append(path.substr(1));
    }
    return std::string(path);
}

std::string credentials_file_path()
{
    const std::string configured = env_value("AWS_SHARED_CREDENTIALS_FILE");
    return expand_home(configured.empty() ? "~/.aws/credentials" : configured);
}

std::string config_file_path()
{
    const std::string configured = env_value("AWS_CONFIG_FILE");
    return expand_home(configured.empty() ? "~/.aws/config" : configured);
}

std::string profile_name(std::string_view explicit_profile)
{
    if (!explicit_profile.empty())
        return std::string(explicit_profile);
    std::string from_env = env_value("AWS_PROFILE");
    return from_env.empty() ? "default" : from_env;
}

bool read_text_file(const std::string& path, std::string& out)
{
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (status.type() == std::filesystem::file_type::not_found)
        return false;
    std::ifstream in(path, std::ios::binary);
    if (ec || std::filesystem::is_directory(status) || !in)
        throw error(errc::bad_configuration, "cannot read '" + path + "'");
    out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (in.bad())
        throw error(errc::bad_configuration, "cannot read '" + path + "'");
    return true;
}

namespace {

// Overlays `profile` from the file at `path` onto `out`.
void overlay(loaded_profile& out, const std::string& path, shared_file kind)
{
    if (!out.searched.empty())
        out.searched += ", ";
    out.searched += path;
    std::string text;
    if (!read_text_file(path, text))
    {
        out.searched += " (absent)";
        return;
    }
    const ini_document doc = parse_ini(text, path);
    if (const ini_section* section = find_profile(doc, out.name, kind))
    {
        out.found = true;
        for (const auto& [key, value] : *section)
            out.properties[key] = value;
    }
}

} // namespace

loaded_profile load_profile(std::string_view profile)
{
    loaded_profile out;
    out.name = profile;
    // The credentials file is applied last: it wins, as in the SDKs.
    overlay(out, config_file_path(), shared_file::config);
    overlay(out, credentials_file_path(), shared_file::credentials);
    return out;
}

loaded_profile load_config_profile(std::string_view profile)
{
    loaded_profile out;
    out.name = profile;
    overlay(out, config_file_path(), shared_file::config);
    return out;
}

} // namespace courier::aws
