// The default credential chain, static credentials, and region and endpoint resolution.
//
// The chain picks its source once, on the first `get()`, by looking at configuration only
// (environment variables and the shared files): the first source that is configured is the
// one used, and its failures are reported rather than skipped, so a typo in a role ARN cannot
// silently turn into the instance's own role. EC2 instance metadata needs no configuration,
// so it is only known to apply once it has answered; until then a failure there puts the
// chain back to "not resolved" and the next `get()` looks again.
#include "courier/aws/credentials_provider.hpp"

#include "aws/credential_sources.hpp"
#include "aws/shared_config.hpp"
#include "courier/error.hpp"
#include "http/client.hpp"

#include <boost/asio/ip/address.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <utility>
#include <vector>

namespace courier::aws {

namespace asio = boost::asio;

credentials_provider::~credentials_provider() = default;

bool credentials_provider::invalidate(const credentials&)
{
    return false;
}

namespace {

refresh_settings refresh_of(const credential_chain_options& options)
{
    return {.log = options.log, .clock = options.clock, .min_refresh_interval = options.min_refresh_interval};
}

bool iequals(std::string_view a, std::string_view b)
{
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
    });
}

bool env_true(const char* name)
{
    return iequals(env_value(name), "true");
}

// Names are string literals, so the view `name()` returns outlives the provider.
class static_provider final : public credentials_provider
{
public:
    static_provider(credentials creds, std::string_view name)
        : creds_(std::move(creds)),
          name_(name)
    {
    }
    asio::awaitable<credentials> get() override { co_return creds_; }
    std::string_view name() const override { return name_; }

private:
    credentials creds_;
    std::string_view name_;
};

// AWS_ENDPOINT_URL_<SUFFIX>, else AWS_ENDPOINT_URL, else empty.
std::string configured_endpoint(std::string_view service_env_suffix)
{
    if (env_true("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"))
        return {};
    std::string var = "AWS_ENDPOINT_URL_";
    for (const char c : service_env_suffix)
    {
        const auto u = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        var += (c == ' ' || c == '-') ? '_' : u;
    }
    if (std::string url = env_value(var.c_str()); !url.empty())
        return url;
    return env_value("AWS_ENDPOINT_URL");
}

// What the chain settled on, and why each source before it did not apply.
struct selection
{
    std::shared_ptr<credentials_provider> provider;
    bool confirmed = true; // false: IMDS, applies only once it has answered
    std::vector<std::string> tried;
};

std::string sts_endpoint_for(const credential_chain_options& options, const std::string& profile)
{
    if (!options.sts_endpoint.empty())
        return options.sts_endpoint;
    if (std::string url = configured_endpoint("STS"); !url.empty())
        return url;
    std::string region;
    try
    {
        region = resolve_region({}, profile);
    }
    catch (const error&)
    {
        return "https://sts.amazonaws.com"; // the global endpoint, as the SDKs without a region
    }
    return resolve_endpoint("STS", "sts", {}, region);
}

std::shared_ptr<credentials_provider> web_identity(const asio::any_io_executor& ex,
                                                   const credential_chain_options& options, const std::string& profile,
                                                   std::string role_arn, std::string token_file,
                                                   std::string session_name)
{
    web_identity_settings settings;
    settings.role_arn = std::move(role_arn);
    settings.token_file = std::move(token_file);
    settings.session_name = std::move(session_name);
    settings.sts_endpoint = sts_endpoint_for(options, profile);
    settings.timeout = std::max<std::chrono::milliseconds>(options.http_timeout, std::chrono::seconds(5));
    return make_web_identity_provider(ex, std::move(settings), refresh_of(options));
}

// Sources from the shared files; false if the profile offers none (reason added to `out`).
bool from_profile(const asio::any_io_executor& ex, const credential_chain_options& options, const std::string& profile,
                  selection& out)
{
    const loaded_profile prof = load_profile(profile);
    auto get = [&](std::string_view key) {
        const auto it = prof.properties.find(key);
        return it == prof.properties.end() ? std::string() : it->second;
    };
    auto why = [&](std::string_view text) {
        out.tried.push_back(fmt::format("shared files: profile '{}' {}", profile, text));
        return false;
    };
    if (!prof.found)
        return why("not found in " + prof.searched);
    if (!get("aws_access_key_id").empty() && !get("aws_secret_access_key").empty())
    {
        credentials creds;
        creds.access_key_id = get("aws_access_key_id");
        creds.secret_access_key = get("aws_secret_access_key");
        creds.session_token = get("aws_session_token");
        out.provider = std::make_shared<static_provider>(std::move(creds), "shared files");
        return true;
    }
    if (!get("web_identity_token_file").empty() && !get("role_arn").empty())
    {
        out.provider = web_identity(ex, options, profile, get("role_arn"), expand_home(get("web_identity_token_file")),
                                    get("role_session_name"));
        return true;
    }
    if (!get("credential_process").empty())
        return why("uses credential_process, which courier does not support");
    if (!get("sso_session").empty() || !get("sso_start_url").empty())
        return why("uses SSO, which courier does not support");
    if (!get("role_arn").empty())
        return why("uses role_arn with source_profile or credential_source, which courier does "
                   "not support");
    if (!get("aws_access_key_id").empty() || !get("aws_secret_access_key").empty())
        return why("sets only one of aws_access_key_id and aws_secret_access_key");
    return why("holds no credentials (" + prof.searched + ")");
}

// The container endpoint URL, or empty with the reason added to `out`.
std::string container_url(selection& out)
{
    const std::string relative = env_value("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    if (!relative.empty())
    {
        if (relative.front() != '/')
        {
            out.tried.emplace_back("container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must start "
                                   "with '/'");
            return {};
        }
        return "http://169.254.170.2" + relative;
    }
    const std::string full = env_value("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    if (full.empty())
    {
        out.tried.emplace_back("container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and "
                               "AWS_CONTAINER_CREDENTIALS_FULL_URI not set");
        return {};
    }
    const http::endpoint ep = http::endpoint::parse(full);
    if (ep.tls())
        return full;
    // Plain http only to this host or to the ECS and EKS agents' link-local addresses, as
    // the SDKs allow: anywhere else the credentials would cross a network in clear.
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(ep.host, ec);
    const bool allowed = ep.host == "localhost" ||
                         (!ec && (address.is_loopback() || address == asio::ip::make_address("169.254.170.2") ||
                                  address == asio::ip::make_address("169.254.170.23") ||
                                  address == asio::ip::make_address("fd00:ec2::23")));
    if (!allowed)
    {
        out.tried.push_back("container: AWS_CONTAINER_CREDENTIALS_FULL_URI uses http to host '" + ep.host +
                            "'; only https, loopback and the ECS/EKS agent addresses "
                            "are allowed");
        return {};
    }
    return full;
}

selection select_source(const asio::any_io_executor& ex, const credential_chain_options& options)
{
    selection out;
    const std::string profile = profile_name(options.profile);
    const auto& log = options.log;
    // A configured source that cannot be built (bad URL, unreadable file) is reported and
    // skipped, as the SDKs' chains do; the warning makes the skip visible.
    auto attempt = [&](std::string_view source, auto&& build) {
        try
        {
            return build();
        }
        catch (const error& e)
        {
            log.log(log_level::warning, "", "", "credentials: {}: {}", source, e.detail());
            out.tried.push_back(fmt::format("{}: {}", source, e.detail()));
            return false;
        }
    };

    const std::string key = env_value("AWS_ACCESS_KEY_ID");
    const std::string secret = env_value("AWS_SECRET_ACCESS_KEY");
    if (!key.empty() && !secret.empty())
    {
        credentials creds;
        creds.access_key_id = key;
        creds.secret_access_key = secret;
        creds.session_token = env_value("AWS_SESSION_TOKEN");
        out.provider = std::make_shared<static_provider>(std::move(creds), "environment");
        return out;
    }
    out.tried.emplace_back(key.empty() && secret.empty()
                               ? "environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY not set"
                               : "environment: only one of AWS_ACCESS_KEY_ID and "
                                 "AWS_SECRET_ACCESS_KEY is set");

    const std::string token_file = env_value("AWS_WEB_IDENTITY_TOKEN_FILE");
    const std::string role_arn = env_value("AWS_ROLE_ARN");
    if (!token_file.empty() && !role_arn.empty())
    {
        if (attempt("web identity", [&] {
                out.provider =
                    web_identity(ex, options, profile, role_arn, token_file, env_value("AWS_ROLE_SESSION_NAME"));
                return true;
            }))
            return out;
    }
    else
    {
        out.tried.emplace_back(token_file.empty() && role_arn.empty()
                                   ? "web identity: AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN "
                                     "not set"
                                   : "web identity: only one of AWS_WEB_IDENTITY_TOKEN_FILE and "
                                     "AWS_ROLE_ARN is set");
    }

    if (attempt("shared files", [&] { return from_profile(ex, options, profile, out); }))
        return out;

    if (attempt("container", [&] {
            const std::string url = container_url(out);
            if (url.empty())
                return false;
            out.provider = make_container_provider(ex, url, env_value("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"),
                                                   env_value("AWS_CONTAINER_AUTHORIZATION_TOKEN"), options.http_timeout,
                                                   refresh_of(options));
            return true;
        }))
        return out;

    if (options.imds_disabled || env_true("AWS_EC2_METADATA_DISABLED"))
    {
        out.tried.emplace_back("EC2 instance metadata: disabled");
        return out;
    }
    attempt("EC2 instance metadata", [&] {
        std::string url = options.imds_endpoint;
        if (url.empty())
            url = env_value("AWS_EC2_METADATA_SERVICE_ENDPOINT");
        if (url.empty())
            url = iequals(env_value("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"), "IPv6") ? "http://[fd00:ec2::254]"
                                                                                       : "http://169.254.169.254";
        out.provider = make_imds_provider(ex, url, options.http_timeout, refresh_of(options));
        out.confirmed = false;
        return true;
    });
    return out;
}

std::string join(const std::vector<std::string>& parts)
{
    std::string out;
    for (const auto& p : parts)
        out.append(out.empty() ? "" : "; ").append(p);
    return out;
}

class chain_provider final : public credentials_provider
{
public:
    chain_provider(asio::any_io_executor ex, credential_chain_options options)
        : ex_(std::move(ex)),
          options_(std::move(options))
    {
    }

    asio::awaitable<credentials> get() override
    {
        std::shared_ptr<credentials_provider> source;
        bool confirmed = false;
        std::string tried;
        {
            std::lock_guard lock(mutex_);
            if (!source_)
                resolve();
            source = source_;
            confirmed = confirmed_;
            if (!source_ || !confirmed_) // needed only for an error: not copied per request
                tried = tried_;
        }
        if (!source)
            throw error(errc::no_credentials, "no AWS credentials found: " + tried);
        if (confirmed)
            co_return co_await source->get();

        // EC2 instance metadata: it applies only if it answers.
        try
        {
            credentials creds = co_await source->get();
            std::lock_guard lock(mutex_);
            if (source_ == source)
                confirmed_ = true;
            co_return creds;
        }
        catch (const error& e)
        {
            {
                std::lock_guard lock(mutex_);
                if (source_ == source)
                    source_.reset();
            }
            throw error(errc::no_credentials, "no AWS credentials found: " + tried + "; " + e.detail());
        }
    }

    std::string_view name() const override
    {
        std::lock_guard lock(mutex_);
        return source_ ? source_->name() : "default chain";
    }

    bool invalidate(const credentials& used) override
    {
        std::shared_ptr<credentials_provider> source;
        {
            std::lock_guard lock(mutex_);
            source = source_;
        }
        return source && source->invalidate(used);
    }

private:
    // Under mutex_. Reads the environment and small files once.
    void resolve()
    {
        selection found = select_source(ex_, options_);
        source_ = std::move(found.provider);
        confirmed_ = found.confirmed;
        tried_ = join(found.tried);
        if (source_)
            options_.log.log(log_level::info, "", "", "credentials: using {}{}", source_->name(),
                             confirmed_ ? "" : " (if it answers)");
        else
            options_.log.log(log_level::debug, "", "", "credentials: no source: {}", tried_);
    }

    asio::any_io_executor ex_;
    credential_chain_options options_;
    mutable std::mutex mutex_;
    std::shared_ptr<credentials_provider> source_;
    bool confirmed_ = false;
    std::string tried_;
};

} // namespace

std::shared_ptr<credentials_provider> static_credentials(credentials creds)
{
    if (creds.access_key_id.empty() || creds.secret_access_key.empty())
        throw error(errc::bad_configuration, "static credentials need an access key id and a secret access key");
    return std::make_shared<static_provider>(std::move(creds), "static");
}

std::shared_ptr<credentials_provider> default_credentials_chain(asio::any_io_executor ex,
                                                                credential_chain_options options)
{
    return std::make_shared<chain_provider>(std::move(ex), std::move(options));
}

std::string resolve_region(const std::string& explicit_region, const std::string& profile)
{
    if (!explicit_region.empty())
        return explicit_region;
    for (const char* var : {"AWS_REGION", "AWS_DEFAULT_REGION"})
        if (std::string region = env_value(var); !region.empty())
            return region;
    const loaded_profile prof = load_config_profile(profile_name(profile));
    if (const auto it = prof.properties.find("region"); it != prof.properties.end() && !it->second.empty())
        return it->second;
    throw error(errc::bad_configuration, fmt::format("no AWS region: set AWS_REGION, AWS_DEFAULT_REGION or 'region' in "
                                                     "profile '{}' of {}, or configure it explicitly",
                                                     prof.name, prof.searched));
}

std::string resolve_endpoint(std::string_view service_env_suffix, std::string_view service_host_prefix,
                             const std::string& explicit_endpoint, const std::string& region)
{
    if (!explicit_endpoint.empty())
        return explicit_endpoint;
    if (std::string url = configured_endpoint(service_env_suffix); !url.empty())
        return url;
    if (region.empty())
        throw error(errc::bad_configuration,
                    fmt::format("no AWS region to build the {} endpoint from", service_host_prefix));
    // The region becomes part of a host name: letters, digits and dashes only.
    const bool valid = std::all_of(region.begin(), region.end(),
                                   [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
    if (!valid)
        throw error(errc::bad_configuration, fmt::format("invalid AWS region '{}'", region));
    const std::string_view domain = region.starts_with("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
    return fmt::format("https://{}.{}.{}", service_host_prefix, region, domain);
}

} // namespace courier::aws
