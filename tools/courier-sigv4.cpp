// courier-sigv4: runs an AWS SigV4 test suite through courier's signer.
//
// The suite is the aws-c-auth `v4` layout (see tests/data/sigv4/README.md): one folder
// per case with `request.txt`, `context.json` and, for each flavour (`header`: Authorization
// header, `query`: presigned URL), the expected canonical request, string to sign, signature
// and signed request. Every case folder is signed in both flavours and each step is compared
// in order; the first step that differs is reported, since later steps follow from it. Nothing
// here knows case names: the rules live in the signer, and the context drives the options.
//
// Output: one line per failing case, then exactly "N passed, N failed" (counted per case: a
// case passes when both flavours do). Exit status: 0 if none failed, 1 if some did, 2 for bad
// arguments or an unusable suite folder.
#include "aws/sigv4.hpp"
#include "courier/error.hpp"

#include <fmt/core.h>
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace {

namespace aws = courier::aws;
namespace fs = std::filesystem;
using header_pairs = std::vector<std::pair<std::string, std::string>>;

constexpr const char* usage = R"(usage: courier-sigv4 --suite DIR [--verbose]

Signs every case folder of an AWS SigV4 test suite (aws-c-auth `v4` layout) with courier's
signer, in the header and the query (presigned URL) flavours, and compares the canonical
request, string to sign, signature and signed request with the expected files.

  --suite DIR   folder holding one subfolder per case
  --verbose     also print the expected and actual text of each differing step
  --help        print this help

Prints one line per failing case, then "N passed, N failed". Exit status: 0 if no case
failed, 1 if some did, 2 for bad arguments.
)";

std::string read_file(const fs::path& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw std::runtime_error("cannot read " + path.filename().string());
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The expected files have no trailing newline; one added by an editor is not a difference in
// the signer, so it is ignored.
std::string read_expected(const fs::path& path)
{
    std::string text = read_file(path);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
        text.pop_back();
    return text;
}

std::string lowercase(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); });
    return s;
}

// A request as written in request.txt and *-signed-request.txt.
struct parsed_request
{
    std::string method, path, query;
    header_pairs headers; // in file order, obs-fold continuations joined with a space
    std::string body;
};

parsed_request parse_request(std::string_view text)
{
    parsed_request r;
    auto next_line = [&text] {
        const std::size_t end = std::min(text.find('\n'), text.size());
        std::string_view line = text.substr(0, end);
        text.remove_prefix(std::min(end + 1, text.size()));
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        return line;
    };
    // The target may hold raw spaces: the method ends at the first space, the version starts
    // at the last one.
    const std::string_view first = next_line();
    const std::size_t method_end = first.find(' ');
    const std::size_t version_start = first.rfind(' ');
    if (method_end == std::string_view::npos || version_start <= method_end)
        throw std::runtime_error("request line is not METHOD TARGET VERSION");
    r.method = first.substr(0, method_end);
    const std::string_view target = first.substr(method_end + 1, version_start - method_end - 1);
    const std::size_t question = std::min(target.find('?'), target.size());
    r.path = target.substr(0, question);
    r.query = target.substr(std::min(question + 1, target.size()));
    for (std::string_view line = next_line(); !line.empty(); line = next_line())
    {
        if (line.front() == ' ' || line.front() == '\t')
        {
            if (r.headers.empty())
                throw std::runtime_error("continuation line before any header");
            r.headers.back().second.append(" ").append(line);
            continue;
        }
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos)
            throw std::runtime_error("header line without ':'");
        r.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
    }
    r.body = text;
    return r;
}

struct context
{
    aws::credentials creds;
    aws::signer_options options;
    std::chrono::system_clock::time_point time;
    std::chrono::seconds expires{};
};

context parse_context(const fs::path& file)
{
    simdjson::dom::parser parser;
    const simdjson::dom::element doc = parser.load(file.string());
    const auto creds = doc["credentials"];
    context c;
    c.creds.access_key_id = std::string(std::string_view(creds["access_key_id"]));
    c.creds.secret_access_key = std::string(std::string_view(creds["secret_access_key"]));
    std::string_view token;
    if (creds["token"].get(token) == simdjson::SUCCESS)
        c.creds.session_token = token;
    c.options.region = std::string_view(doc["region"]);
    c.options.service = std::string_view(doc["service"]);
    c.options.normalize_path = bool(doc["normalize"]);
    bool flag = false;
    c.options.add_content_sha256 = doc["sign_body"].get(flag) == simdjson::SUCCESS && flag;
    c.options.sign_session_token = !(doc["omit_session_token"].get(flag) == simdjson::SUCCESS && flag);
    c.expires = std::chrono::seconds(int64_t(doc["expiration_in_seconds"]));

    const std::string stamp{std::string_view(doc["timestamp"])};
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
    if (std::sscanf(stamp.c_str(), "%4d-%2d-%2dT%2d:%2d:%2dZ", &y, &mo, &d, &h, &mi, &s) != 6)
        throw std::runtime_error("timestamp is not YYYY-MM-DDTHH:MM:SSZ");
    using namespace std::chrono;
    c.time = sys_days(year(y) / month(unsigned(mo)) / day(unsigned(d))) + hours(h) + minutes(mi) + seconds(s);
    return c;
}

// Headers compare as a multiset of (lowercase name, value): the suite's signed requests list
// them in the order its own library emits them.
header_pairs normalized(header_pairs headers)
{
    for (auto& h : headers)
        h.first = lowercase(std::move(h.first));
    std::sort(headers.begin(), headers.end());
    return headers;
}

std::vector<std::string> query_params(std::string_view query)
{
    std::vector<std::string> params;
    while (!query.empty())
    {
        const std::size_t amp = std::min(query.find('&'), query.size());
        params.emplace_back(query.substr(0, amp));
        query.remove_prefix(std::min(amp + 1, query.size()));
    }
    std::sort(params.begin(), params.end());
    return params;
}

// Compares the steps of one flavour; returns the first that differs, or nothing.
class flavour_check
{
public:
    flavour_check(const fs::path& dir, std::string_view prefix, bool verbose)
        : dir_(dir),
          prefix_(prefix),
          verbose_(verbose)
    {
    }

    // Compares `actual` with the expected file "<prefix>-<file>"; remembers the first failure.
    void text(std::string_view step, std::string_view file, const std::string& actual)
    {
        if (failed_)
            return;
        const std::string expected = read_expected(dir_ / (prefix_ + "-" + std::string(file)));
        if (actual != expected)
            fail(std::string(step) + " differs", expected, actual);
    }

    void fail(std::string message, std::string_view expected = {}, std::string_view actual = {})
    {
        if (failed_)
            return;
        failed_ = std::move(message);
        if (verbose_ && !(expected.empty() && actual.empty()))
            details_ = fmt::format("--- expected\n{}\n--- actual\n{}\n", expected, actual);
    }

    const std::optional<std::string>& failure() const { return failed_; }
    const std::string& details() const { return details_; }

private:
    fs::path dir_;
    std::string prefix_;
    bool verbose_;
    std::optional<std::string> failed_;
    std::string details_;
};

std::vector<aws::header_field> fields_of(const header_pairs& headers)
{
    std::vector<aws::header_field> fields;
    for (const auto& [name, value] : headers)
        fields.push_back({name, value});
    return fields;
}

void check_header_flavour(flavour_check& check, const fs::path& dir, const parsed_request& req,
                          const aws::http_request& request, const context& ctx)
{
    const aws::signer signer(ctx.options);
    aws::signing_trace trace;
    const aws::signed_headers added = signer.sign(request, ctx.creds, ctx.time, &trace);
    check.text("canonical request", "canonical-request.txt", trace.canonical_request);
    check.text("string to sign", "string-to-sign.txt", trace.string_to_sign);
    check.text("signature", "signature.txt", trace.signature);
    if (check.failure())
        return;
    header_pairs headers = req.headers;
    added.for_each([&](std::string_view name, std::string_view value) { headers.emplace_back(name, value); });
    const parsed_request expected = parse_request(read_file(dir / "header-signed-request.txt"));
    if (expected.method != req.method || expected.path != req.path || expected.query != req.query ||
        expected.body != req.body || normalized(expected.headers) != normalized(headers))
        check.fail("signed request differs");
}

void check_query_flavour(flavour_check& check, const fs::path& dir, const parsed_request& req,
                         const aws::http_request& request, const context& ctx)
{
    const aws::signer signer(ctx.options);
    aws::signing_trace trace;
    const std::string query = signer.presign(request, ctx.creds, ctx.time, ctx.expires, &trace);
    check.text("canonical request", "canonical-request.txt", trace.canonical_request);
    check.text("string to sign", "string-to-sign.txt", trace.string_to_sign);
    check.text("signature", "signature.txt", trace.signature);
    if (check.failure())
        return;
    const parsed_request expected = parse_request(read_file(dir / "query-signed-request.txt"));
    if (expected.method != req.method || expected.path != req.path ||
        query_params(expected.query) != query_params(query) || expected.body != req.body ||
        normalized(expected.headers) != normalized(req.headers))
        check.fail("signed request differs", expected.query, query);
}

// Runs one case; returns an empty string if it passed, else the line to print.
std::string run_case(const fs::path& dir, bool verbose)
{
    parsed_request req;
    context ctx;
    const char* file = "request.txt";
    try
    {
        req = parse_request(read_file(dir / file));
        file = "context.json";
        ctx = parse_context(dir / file);
    }
    catch (const std::exception& e)
    {
        return fmt::format("{}: cannot read {}: {}", dir.filename().string(), file, e.what());
    }
    const std::vector<aws::header_field> fields = fields_of(req.headers);
    const aws::http_request request{.method = req.method,
                                    .path = req.path,
                                    .query = req.query,
                                    .headers = fields,
                                    .body = req.body,
                                    .payload_hash = {}};

    std::string line;
    std::string details;
    for (const char* flavour : {"header", "query"})
    {
        flavour_check check(dir, flavour, verbose);
        try
        {
            if (flavour == std::string_view("header"))
                check_header_flavour(check, dir, req, request, ctx);
            else
                check_query_flavour(check, dir, req, request, ctx);
        }
        catch (const courier::error& e)
        {
            check.fail("signing failed: " + e.detail());
        }
        catch (const std::exception& e)
        {
            check.fail(std::string("signing failed: ") + e.what());
        }
        if (check.failure())
        {
            line += fmt::format("{}{}: {}", line.empty() ? "" : "; ", flavour, *check.failure());
            details += check.details();
        }
    }
    if (line.empty())
        return {};
    return fmt::format("{}: {}{}{}", dir.filename().string(), line, details.empty() ? "" : "\n", details);
}

int main_impl(int argc, char** argv)
{
    std::optional<fs::path> suite;
    bool verbose = false;
    for (int i = 1; i < argc; ++i)
    {
        const std::string_view arg = argv[i];
        if (arg == "--help" || arg == "-h")
        {
            fmt::print("{}", usage);
            return 0;
        }
        else if (arg == "--verbose" || arg == "-v")
        {
            verbose = true;
        }
        else if (arg == "--suite" && i + 1 < argc)
        {
            suite = argv[++i];
        }
        else if (arg.starts_with("--suite="))
        {
            suite = arg.substr(8);
        }
        else
        {
            fmt::print(stderr, "courier-sigv4: {} '{}' (try --help)\n",
                       arg == "--suite" ? "missing folder after" : "unknown argument", arg);
            return 2;
        }
    }
    if (!suite)
    {
        fmt::print(stderr, "courier-sigv4: --suite DIR is required (try --help)\n");
        return 2;
    }
    std::error_code ec;
    std::vector<fs::path> cases;
    for (const auto& entry : fs::directory_iterator(*suite, ec))
        if (entry.is_directory())
            cases.push_back(entry.path());
    if (ec || cases.empty())
    {
        fmt::print(stderr, "courier-sigv4: {} is not a folder of test cases{}\n", suite->string(),
                   ec ? ": " + ec.message() : std::string());
        return 2;
    }
    std::sort(cases.begin(), cases.end());

    int passed = 0;
    int failed = 0;
    for (const fs::path& dir : cases)
    {
        const std::string failure = run_case(dir, verbose);
        if (failure.empty())
        {
            ++passed;
        }
        else
        {
            ++failed;
            fmt::print("{}\n", failure);
        }
    }
    fmt::print("{} passed, {} failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

} // namespace

int main(int argc, char** argv)
{
    try
    {
        return main_impl(argc, argv);
    }
    catch (const std::exception& e)
    {
        fmt::print(stderr, "courier-sigv4: {}\n", e.what());
        return 2;
    }
}
