// The command line of courier's programs: Boost.Program_options over the arguments, then the
// COURIER_* environment as a second source, then the program's own checks; --help and every
// error end in one message and the exit status a shell expects.
#include <courier/command_line.hpp>

#include <boost/program_options/errors.hpp>
#include <boost/program_options/parsers.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <typeinfo>

namespace po = boost::program_options;

namespace courier {

namespace {

// Help columns: wide enough for "--sqs-queue-url URL|NAME" and a readable description.
constexpr unsigned help_width = 100;
constexpr unsigned help_description_width = 56;

// The values a vector flag's environment variable holds: "a,b , c" -> {"a", "b", "c"}.
std::vector<std::string> split_list(const std::string& text)
{
    std::vector<std::string> items;
    std::string item;
    std::istringstream in(text);
    while (std::getline(in, item, ','))
    {
        const auto first = item.find_first_not_of(" \t");
        if (first == std::string::npos)
            continue;
        items.push_back(item.substr(first, item.find_last_not_of(" \t") - first + 1));
    }
    return items;
}

bool is_list(const po::option_description& flag)
{
    const auto* typed = dynamic_cast<const po::typed_value_base*>(flag.semantic().get());
    return typed && typed->value_type() == typeid(std::vector<std::string>);
}

// What the environment sets, as Program_options' own parsed options, so that storing them
// validates and converts exactly as for the command line.
po::parsed_options environment_options(const po::options_description& flags, const environment_lookup& lookup,
                                       std::vector<std::string>& sources)
{
    // Marked as long options, so that errors name them as on the command line: '--name'.
    po::parsed_options parsed(&flags, po::command_line_style::allow_long);
    for (const auto& flag : flags.options())
    {
        const auto& name = flag->long_name();
        if (name.empty() || name == "help")
            continue;
        const auto variable = environment_name(name);
        const auto value = lookup(variable);
        if (!value || value->empty())
            continue;
        parsed.options.emplace_back(name, is_list(*flag) ? split_list(*value) : std::vector<std::string>{*value});
        sources.push_back(fmt::format("{}={}", variable, *value));
    }
    return parsed;
}

bool asks_for_help(std::span<const std::string> args)
{
    return std::any_of(args.begin(), args.end(), [](const std::string& a) { return a == "--help" || a == "-h"; });
}

} // namespace

std::optional<std::string> process_environment(std::string_view name)
{
    if (const char* value = std::getenv(std::string(name).c_str()))
        return std::string(value);
    return std::nullopt;
}

std::string environment_name(std::string_view flag)
{
    std::string name = "COURIER_";
    for (const char c : flag)
        name += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return name;
}

command_line::command_line(std::string program, std::string about)
    : program_(std::move(program)),
      about_(std::move(about)),
      flags_("Flags", help_width, help_description_width)
{
    flags_.add_options()("help,h", "print this help and exit");
}

po::options_description_easy_init command_line::add_options()
{
    return flags_.add_options();
}

void command_line::add_check(std::function<void(const po::variables_map&)> check)
{
    checks_.push_back(std::move(check));
}

bool command_line::given(std::string_view flag) const
{
    const auto it = values_.find(std::string(flag));
    return it != values_.end() && !it->second.defaulted();
}

void command_line::parse_or_throw(std::span<const std::string> args, const environment_lookup& environment)
{
    values_.clear();
    // No abbreviations: `--conc` silently meaning --concurrency today could mean another
    // flag tomorrow.
    const auto style = po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
    const po::positional_options_description no_positional; // a bare word is an error, not dropped
    try
    {
        po::store(po::command_line_parser(std::vector<std::string>(args.begin(), args.end()))
                      .options(flags_)
                      .positional(no_positional)
                      .style(style)
                      .run(),
                  values_);
    }
    catch (const po::too_many_positional_options_error&)
    {
        const auto stray =
            std::find_if(args.begin(), args.end(), [](const std::string& a) { return !a.starts_with("-"); });
        throw usage_error(fmt::format("unexpected argument '{}' (flags start with --)",
                                      stray == args.end() ? std::string() : *stray));
    }
    // A second store keeps what the command line set and fills in the rest.
    std::vector<std::string> sources;
    auto from_environment = environment_options(flags_, environment, sources);
    try
    {
        po::store(from_environment, values_);
    }
    catch (const po::error& e)
    {
        std::string all;
        for (const auto& s : sources)
            all += (all.empty() ? "" : ", ") + s;
        throw usage_error(fmt::format("{} (from the environment: {})", e.what(), all));
    }
    po::notify(values_);
    for (const auto& check : checks_)
        check(values_);
}

std::optional<int> command_line::parse(std::span<const std::string> args, const environment_lookup& environment,
                                       std::ostream& out, std::ostream& err)
{
    if (asks_for_help(args))
    {
        out << help();
        return 0;
    }
    try
    {
        parse_or_throw(args, environment);
        return std::nullopt;
    }
    catch (const std::exception& e) // po::error or usage_error: both name what is wrong
    {
        err << fmt::format("{}: {}\nTry '{} --help' for the flags.\n", program_, e.what(), program_);
        return exit_usage;
    }
}

void command_line::parse_or_exit(int argc, const char* const argv[])
{
    const std::vector<std::string> args(argv + std::min(argc, 1), argv + argc);
    if (const auto status = parse(args, process_environment, std::cout, std::cerr))
    {
        std::cout.flush();
        std::exit(*status);
    }
}

std::string command_line::help() const
{
    std::ostringstream text;
    text << "usage: " << program_ << " [flags]\n";
    if (!about_.empty())
        text << '\n' << about_ << '\n';
    text << '\n' << flags_ << '\n';
    text << "Every flag can also be set in the environment: COURIER_ and the flag's name in capitals,\n"
            "'_' for '-' (--some-flag: COURIER_SOME_FLAG; a switch takes 1 or 0; values of a repeatable\n"
            "flag separated by commas). The command line wins over the environment.\n";
    if (!epilogue_.empty())
        text << '\n' << epilogue_ << '\n';
    return text.str();
}

} // namespace courier
