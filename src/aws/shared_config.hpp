// The AWS shared configuration files (`~/.aws/credentials`, `~/.aws/config`): a sans-io INI
// parser, profile lookup, and the environment variables that locate the files.
//
// The parser follows the rules the AWS SDKs share:
// - a line whose first non-blank character is `#` or `;` is a comment;
// - `[name]` opens a section; blanks around the name are dropped, and a comment may follow
//   the `]`;
// - `key = value` sets a property; blanks around key and value are dropped, and a `#` or `;`
//   preceded by a blank ends the value (so `abc#def` keeps its `#`);
// - a line indented deeper than the property above it continues that property's value
//   (sub-properties such as `s3 =` followed by indented `key = value` lines); its text is
//   appended after a newline;
// - section names and values are case-sensitive; keys are not (they are stored lower-case,
//   as botocore does), so `AWS_ACCESS_KEY_ID = ...` works;
// - a repeated section merges into the first, and a repeated key keeps the last value.
// Anything else is an error naming the file and line. Errors never quote the line: a
// mistyped line may hold a secret key.
#ifndef COURIER_SRC_AWS_SHARED_CONFIG_HPP
#define COURIER_SRC_AWS_SHARED_CONFIG_HPP

#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace courier::aws {

/// A section's properties: lower-case key to value.
using ini_section = std::map<std::string, std::string, std::less<>>;

/// Sections by their name as written between the brackets (trimmed).
using ini_document = std::map<std::string, ini_section, std::less<>>;

/// Parses INI text. `file_name` only labels errors.
/// Throws `courier::error` (`errc::bad_configuration`) "<file>:<line>: <problem>".
ini_document parse_ini(std::string_view text, std::string_view file_name = "<text>");

/// Which of the two shared files a document came from: their section names differ.
enum class shared_file
{
    credentials, ///< sections are profile names: `[default]`, `[dev]`
    config,      ///< `[default]` and `[profile dev]`; other sections (`[sso-session x]`,
                 ///< `[services x]`) are not profiles
};

/// The section holding `profile`, or nullptr. In a config file `[profile default]` wins over
/// `[default]`, as in the SDKs.
const ini_section* find_profile(const ini_document& doc, std::string_view profile, shared_file kind);

/// The value of environment variable `name`, empty if unset.
std::string env_value(const char* name);

/// `path` with a leading `~` or `~/` replaced by the home directory.
std::string expand_home(std::string_view path);

/// `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`.
std::string credentials_file_path();

/// `AWS_CONFIG_FILE`, else `~/.aws/config`.
std::string config_file_path();

/// `explicit_profile` if not empty, else `AWS_PROFILE`, else "default".
std::string profile_name(std::string_view explicit_profile);

/// A profile as the SDKs see it: the config file's properties overlaid with the credentials
/// file's.
struct loaded_profile
{
    std::string name;
    bool found = false;     ///< in at least one of the files
    ini_section properties; ///< holds secrets: never log it
    std::string searched;   ///< "<credentials path>, <config path> (absent)", for messages
};

/// Reads both files (either may be absent) and returns `profile`.
/// Throws `courier::error` (`errc::bad_configuration`) if a file exists but cannot be read or
/// parsed.
loaded_profile load_profile(std::string_view profile);

/// The profile from the config file alone (settings such as `region` live only there); same
/// errors as `load_profile`.
loaded_profile load_config_profile(std::string_view profile);

/// Reads a whole file. Returns false if it does not exist; throws `courier::error`
/// (`errc::bad_configuration`) if it exists but cannot be read.
bool read_text_file(const std::string& path, std::string& out);

} // namespace courier::aws

#endif
