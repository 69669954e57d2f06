// Helpers for the credential tests: a scoped environment with every AWS variable the chain
// reads cleared (and restored afterwards), a temporary directory for shared files and token
// files, and a source of temporary credentials scripted in memory (the refresh policy of
// `refreshing_provider` without sockets, on simulated time).
//
// The scope points AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE into its empty directory
// and sets AWS_EC2_METADATA_DISABLED=true, so no test reads the developer's ~/.aws or sends
// a packet to 169.254.169.254 by accident; tests that want IMDS unset it and point the chain
// at a loopback server.
#ifndef COURIER_TESTS_CREDENTIALS_SUPPORT_HPP
#define COURIER_TESTS_CREDENTIALS_SUPPORT_HPP

#include "aws/refreshing_provider.hpp"
#include "courier/logger.hpp"
#include "test_support.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace courier_test {

class env_scope
{
public:
    env_scope()
    {
        char pattern[] = "/tmp/courier-creds-XXXXXX";
        REQUIRE(::mkdtemp(pattern) != nullptr);
        dir_ = pattern;
        for (const char* name : variables)
        {
            const char* value = std::getenv(name);
            saved_.emplace_back(name, value ? std::optional<std::string>(value) : std::nullopt);
            ::unsetenv(name);
        }
        set("AWS_CONFIG_FILE", path("absent-config"));
        set("AWS_SHARED_CREDENTIALS_FILE", path("absent-credentials"));
        set("AWS_EC2_METADATA_DISABLED", "true");
    }
    ~env_scope()
    {
        for (const auto& [name, value] : saved_)
        {
            if (value)
                ::setenv(name.c_str(), value->c_str(), 1);
            else
                ::unsetenv(name.c_str());
        }
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }
    env_scope(const env_scope&) = delete;
    env_scope& operator=(const env_scope&) = delete;

    void set(const char* name, const std::string& value) { ::setenv(name, value.c_str(), 1); }
    void unset(const char* name) { ::unsetenv(name); }

    std::string path(const std::string& name) const { return dir_ + "/" + name; }

    // Writes `text` to a file in the scope's directory and returns its path.
    std::string write(const std::string& name, const std::string& text) const
    {
        const std::string p = path(name);
        std::ofstream(p, std::ios::binary) << text;
        return p;
    }

    static constexpr const char* variables[] = {
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
        "AWS_ROLE_SESSION_NAME",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
        "AWS_EC2_METADATA_DISABLED",
        "AWS_EC2_METADATA_SERVICE_ENDPOINT",
        "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_SQS",
        "AWS_ENDPOINT_URL_SNS",
        "AWS_ENDPOINT_URL_STS",
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    };

private:
    std::string dir_;
    std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

/// Temporary credentials from memory: fetch n (1-based) hands out "AKID-n" / "SECRET-n" /
/// "TOKEN-n", valid for `lifetime` from the clock's calendar time, unless n is in `failing`
/// (then it throws "injected failure n"). While `hold` is set, fetches wait for `release()`.
class scripted_source final : public courier::aws::refreshing_provider
{
public:
    scripted_source(boost::asio::any_io_executor ex, courier::aws::refresh_settings settings,
                    std::chrono::milliseconds lifetime)
        : refreshing_provider(ex, settings),
          clock_(settings.clock),
          lifetime_(lifetime),
          gate_(ex, boost::asio::steady_timer::time_point::max())
    {
    }

    std::string_view name() const override { return "scripted source"; }

    void release()
    {
        hold = false;
        gate_.cancel();
    }

    std::vector<int> failing;
    bool hold = false;
    int fetches = 0;
    int waiting = 0; ///< fetches held right now

private:
    boost::asio::awaitable<courier::aws::credentials> fetch() override
    {
        const int n = ++fetches;
        while (hold)
        {
            ++waiting;
            co_await gate_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
            --waiting;
        }
        if (std::find(failing.begin(), failing.end(), n) != failing.end())
            throw std::runtime_error("injected failure " + std::to_string(n));
        const std::string id = std::to_string(n);
        co_return courier::aws::credentials{.access_key_id = "AKID-" + id,
                                            .secret_access_key = "SECRET-" + id,
                                            .session_token = "TOKEN-" + id,
                                            .expiration = clock_->system_now() + lifetime_};
    }

    std::shared_ptr<courier::clock> clock_;
    std::chrono::milliseconds lifetime_;
    boost::asio::steady_timer gate_; // never expires; cancelled to release the held fetches
};

} // namespace courier_test

#endif
