// What a container credentials endpoint serves, for tests that point the credential chain at
// a loopback `http_server`: the JSON document of one set of temporary credentials, and a
// handler that numbers the sets it hands out ("AKID-1", "AKID-2", ... with session tokens
// "TOKEN-1", ...). Expirations are computed from a courier::clock, so tests on simulated time
// can let them pass.
#ifndef COURIER_TESTS_CONTAINER_CREDENTIALS_HPP
#define COURIER_TESTS_CONTAINER_CREDENTIALS_HPP

#include "aws/credential_parsing.hpp"
#include "loopback_http_server.hpp"

#include <courier/clock.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace courier_test {

// An expiration with milliseconds, so tests can use short lifetimes.
inline std::string iso_ms(std::chrono::system_clock::time_point t)
{
    std::string text = courier::aws::format_iso8601(t);
    text.pop_back();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch());
    return fmt::format("{}.{:03}Z", text, ms.count() % 1000);
}

inline std::string creds_json(const std::string& key, const std::string& secret, const std::string& token,
                              std::chrono::system_clock::time_point expiration)
{
    return fmt::format(R"({{"Code":"Success","Type":"AWS-HMAC","AccessKeyId":"{}",)"
                       R"("SecretAccessKey":"{}","Token":"{}","Expiration":"{}"}})",
                       key, secret, token, iso_ms(expiration));
}

// A container endpoint that counts its answers: "AKID-1" / "SECRET-1" / "TOKEN-1", ..., each
// valid for `lifetime` from `clock`'s calendar time; from answer `fail_from` on (0-based) it
// answers 500. `clock` must outlive the handler.
inline http_server::handler numbered_credentials(const courier::clock& clock, std::chrono::milliseconds lifetime,
                                                 std::size_t fail_from = SIZE_MAX)
{
    return [&clock, lifetime, fail_from](const seen_request&, std::size_t i) {
        if (i >= fail_from)
            return reply{500, R"({"code":"Broken","message":"injected"})"};
        const std::string n = std::to_string(i + 1);
        return reply{200, creds_json("AKID-" + n, "SECRET-" + n, "TOKEN-" + n, clock.system_now() + lifetime)};
    };
}

} // namespace courier_test

#endif
