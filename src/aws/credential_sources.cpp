// STS web identity, container endpoint and EC2 instance metadata credential sources: the
// requests they send and how they read the answers. Caching, refresh and single flight come
// from `refreshing_provider`.
//
// Responses hold secrets, so failures report the HTTP status and, for STS, the error code and
// message STS sent; never a body. The web identity token is itself a secret: it only travels
// in the request body.
#include "aws/credential_sources.hpp"

#include "aws/credential_parsing.hpp"
#include "aws/form_encoding.hpp"
#include "aws/refreshing_provider.hpp"
#include "aws/shared_config.hpp"
#include "courier/error.hpp"
#include "http/client.hpp"

#include <fmt/format.h>

#include <utility>

namespace courier::aws {

namespace asio = boost::asio;
using std::chrono::milliseconds;

namespace {

http::client_options options_for(milliseconds timeout)
{
    http::client_options o;
    o.max_connections = 2;
    o.connect_timeout = timeout;
    o.request_timeout = timeout;
    o.max_response_body = 64u << 10; // credential documents are a few KiB
    return o;
}

std::string trimmed(std::string_view s)
{
    constexpr std::string_view blanks = " \t\r\n\f\v";
    const auto first = s.find_first_not_of(blanks);
    if (first == std::string_view::npos)
        return {};
    return std::string(s.substr(first, s.find_last_not_of(blanks) - first + 1));
}

// Reads a file holding a token, such as a Kubernetes service account token.
std::string read_token_file(const std::string& path, std::string_view what)
{
    std::string text;
    if (!read_text_file(path, text))
        throw error(errc::no_credentials, fmt::format("{} '{}' does not exist", what, path));
    std::string token = trimmed(text);
    if (token.empty())
        throw error(errc::no_credentials, fmt::format("{} '{}' is empty", what, path));
    return token;
}

[[noreturn]] void bad_status(std::string_view what, unsigned status)
{
    error_context context;
    context.status = static_cast<int>(status);
    throw error(errc::server_error, fmt::format("{} answered HTTP {}", what, status), std::move(context));
}

// ---------------------------------------------------------------------------------------

class web_identity_provider final : public refreshing_provider
{
public:
    web_identity_provider(asio::any_io_executor ex, web_identity_settings settings, refresh_settings refresh)
        : refreshing_provider(std::move(ex), std::move(refresh)),
          settings_(std::move(settings)),
          client_(strand(), http::endpoint::parse(settings_.sts_endpoint), options_for(settings_.timeout))
    {
        if (settings_.session_name.empty())
            settings_.session_name = fmt::format(
                "courier-{}",
                std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
    }

    std::string_view name() const override { return "web identity"; }

protected:
    asio::awaitable<credentials> fetch() override
    {
        const std::string token = read_token_file(settings_.token_file, "web identity token file");
        http::request req;
        req.method = "POST";
        req.target = client_.remote().path;
        req.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
        req.body = "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=" + form_encode(settings_.role_arn) +
                   "&RoleSessionName=" + form_encode(settings_.session_name) +
                   "&WebIdentityToken=" + form_encode(token);
        const http::response res = co_await client_.send(std::move(req), settings_.timeout);
        if (res.status != 200)
        {
            sts_error sent = parse_sts_error(res.body);
            // STS does not echo tokens today; make sure a future message cannot leak one.
            if (sent.message.find(token) != std::string::npos)
                sent.message = "(withheld: it quotes the token)";
            error_context context;
            context.action = "AssumeRoleWithWebIdentity";
            context.status = static_cast<int>(res.status);
            context.server_code = std::move(sent.code);
            context.server_message = std::move(sent.message);
            throw error(errc::server_error, "STS refused to assume role " + settings_.role_arn + " with web identity",
                        std::move(context));
        }
        co_return parse_sts_credentials(res.body);
    }

private:
    web_identity_settings settings_;
    http::client client_;
};

// ---------------------------------------------------------------------------------------

class container_provider final : public refreshing_provider
{
public:
    container_provider(asio::any_io_executor ex, http::endpoint remote, std::string token_file, std::string token,
                       milliseconds timeout, refresh_settings refresh)
        : refreshing_provider(std::move(ex), std::move(refresh)),
          target_(remote.path),
          token_file_(std::move(token_file)),
          token_(std::move(token)),
          timeout_(timeout),
          client_(strand(), std::move(remote), options_for(timeout))
    {
    }

    std::string_view name() const override { return "container endpoint"; }

protected:
    asio::awaitable<credentials> fetch() override
    {
        // The file wins over the variable, and is read every time: EKS rotates it.
        const std::string authorization =
            token_file_.empty() ? token_ : read_token_file(token_file_, "container authorization token file");
        if (authorization.find_first_of("\r\n") != std::string::npos)
            throw error(errc::bad_configuration, "container authorization token holds a line break");
        http::request req;
        req.method = "GET";
        req.target = target_;
        req.headers.emplace_back("Accept", "application/json");
        if (!authorization.empty())
            req.headers.emplace_back("Authorization", authorization);
        const http::response res = co_await client_.send(std::move(req), timeout_);
        if (res.status != 200)
            bad_status("container credentials endpoint", res.status);
        co_return parse_credentials_json(res.body);
    }

private:
    std::string target_;
    std::string token_file_;
    std::string token_;
    milliseconds timeout_;
    http::client client_;
};

// ---------------------------------------------------------------------------------------

class imds_provider final : public refreshing_provider
{
public:
    imds_provider(asio::any_io_executor ex, http::endpoint remote, milliseconds timeout, refresh_settings refresh)
        : refreshing_provider(std::move(ex), std::move(refresh)),
          timeout_(timeout),
          client_(strand(), std::move(remote), options_for(timeout))
    {
    }

    std::string_view name() const override { return "EC2 instance metadata"; }

protected:
    asio::awaitable<credentials> fetch() override
    {
        const std::string token = co_await session_token();
        const std::string role = co_await role_name(token);
        http::request req = get(std::string(roles_path) + role, token);
        const http::response res = co_await client_.send(std::move(req), timeout_);
        if (res.status != 200)
            bad_status("EC2 instance metadata credentials request", res.status);
        co_return parse_credentials_json(res.body);
    }

private:
    static constexpr std::string_view roles_path = "/latest/meta-data/iam/security-credentials/";

    // IMDSv2 wants a session token first. Its 6 h lifetime is the SDKs' choice; we ask for a
    // new one at each refresh (hourly), which costs one local request.
    asio::awaitable<std::string> session_token()
    {
        http::request req;
        req.method = "PUT";
        req.target = "/latest/api/token";
        req.headers.emplace_back("X-aws-ec2-metadata-token-ttl-seconds", "21600");
        const http::response res = co_await client_.send(std::move(req), timeout_);
        if (res.status != 200)
            bad_status("EC2 instance metadata session token request", res.status);
        std::string token = trimmed(res.body);
        if (token.empty() || token.find_first_of("\r\n") != std::string::npos)
            throw error(errc::bad_response, "EC2 instance metadata sent an unusable session token");
        co_return token;
    }

    // The instance profile's role: the first line of the listing.
    asio::awaitable<std::string> role_name(const std::string& token)
    {
        http::request req = get(std::string(roles_path), token);
        const http::response res = co_await client_.send(std::move(req), timeout_);
        if (res.status == 404)
            throw error(errc::no_credentials, "no IAM role is attached to this EC2 instance");
        if (res.status != 200)
            bad_status("EC2 instance metadata role listing", res.status);
        std::string role = trimmed(std::string_view(res.body).substr(0, res.body.find('\n')));
        if (!valid_role_name(role))
            throw error(errc::bad_response, "EC2 instance metadata listed an invalid role name");
        co_return role;
    }

    static http::request get(std::string target, const std::string& token)
    {
        http::request req;
        req.method = "GET";
        req.target = std::move(target);
        req.headers.emplace_back("X-aws-ec2-metadata-token", token);
        return req;
    }

    // IAM role names are 1-64 of [A-Za-z0-9+=,.@_-]; checking keeps the path well-formed.
    static bool valid_role_name(std::string_view role)
    {
        if (role.empty() || role.size() > 64)
            return false;
        for (const char c : role)
        {
            const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                            std::string_view("+=,.@_-").find(c) != std::string_view::npos;
            if (!ok)
                return false;
        }
        return true;
    }

    milliseconds timeout_;
    http::client client_;
};

} // namespace

std::shared_ptr<credentials_provider> make_web_identity_provider(asio::any_io_executor ex,
                                                                 web_identity_settings settings,
                                                                 refresh_settings refresh)
{
    return std::make_shared<web_identity_provider>(std::move(ex), std::move(settings), std::move(refresh));
}

std::shared_ptr<credentials_provider> make_container_provider(asio::any_io_executor ex, const std::string& url,
                                                              std::string token_file, std::string token,
                                                              milliseconds timeout, refresh_settings refresh)
{
    return std::make_shared<container_provider>(std::move(ex), http::endpoint::parse(url), std::move(token_file),
                                                std::move(token), timeout, std::move(refresh));
}

std::shared_ptr<credentials_provider> make_imds_provider(asio::any_io_executor ex, const std::string& endpoint_url,
                                                         milliseconds timeout, refresh_settings refresh)
{
    return std::make_shared<imds_provider>(std::move(ex), http::endpoint::parse(endpoint_url), timeout,
                                           std::move(refresh));
}

} // namespace courier::aws
