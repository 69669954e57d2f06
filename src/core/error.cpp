// courier's error category, the context-carrying exception, and exception texts for logs.
#include <courier/error.hpp>

#include <string>

namespace courier {
namespace {

class category final : public std::error_category
{
public:
    const char* name() const noexcept override { return "courier"; }

    std::string message(int value) const override
    {
        switch (static_cast<errc>(value))
        {
        case errc::bad_configuration: return "bad configuration";
        case errc::translation_failed: return "message translation failed";
        case errc::stale_receipt: return "receipt is no longer valid";
        case errc::provider_closed: return "provider is closed";
        case errc::server_error: return "server returned an error";
        case errc::bad_response: return "server response could not be understood";
        case errc::transport_failed: return "network operation failed";
        case errc::no_credentials: return "no usable credentials";
        case errc::throttled: return "request throttled";
        case errc::visibility_limit: return "visibility cannot be extended further";
        case errc::not_found: return "queue or topic not found";
        case errc::access_denied: return "access denied";
        case errc::invalid_credentials: return "credentials not accepted";
        case errc::unknown_event: return "no listener knows the event";
        }
        return "unknown courier error";
    }
};

// Renders "detail [route=orders message=abc action=... status=503 server=Code: text]".
std::string render(const std::string& detail, const error_context& c, bool with_route_and_message = true)
{
    std::string out = detail;
    std::string extra;
    auto add = [&](const char* key, const std::string& value) {
        if (value.empty())
            return;
        if (!extra.empty())
            extra += ' ';
        extra += key;
        extra += '=';
        extra += value;
    };
    if (with_route_and_message)
    {
        add("route", c.route);
        add("message", c.message_id);
    }
    add("action", c.action);
    add("queue", c.queue);
    if (c.status != 0)
        add("status", std::to_string(c.status));
    if (!c.server_code.empty() || !c.server_message.empty())
        add("server", c.server_code + (c.server_message.empty() ? "" : ": " + c.server_message));
    if (!extra.empty())
        out += " [" + extra + "]";
    return out;
}

} // namespace

std::string error::without_route_and_message() const
{
    return render(detail_, context_, false);
}

std::string_view to_string(errc e) noexcept
{
    switch (e)
    {
    case errc::bad_configuration: return "bad_configuration";
    case errc::translation_failed: return "translation_failed";
    case errc::stale_receipt: return "stale_receipt";
    case errc::provider_closed: return "provider_closed";
    case errc::server_error: return "server_error";
    case errc::bad_response: return "bad_response";
    case errc::transport_failed: return "transport_failed";
    case errc::no_credentials: return "no_credentials";
    case errc::throttled: return "throttled";
    case errc::visibility_limit: return "visibility_limit";
    case errc::not_found: return "not_found";
    case errc::access_denied: return "access_denied";
    case errc::invalid_credentials: return "invalid_credentials";
    case errc::unknown_event: return "unknown_event";
    }
    return "unknown";
}

bool is_permanent(std::exception_ptr error)
{
    if (!error)
        return false;
    try
    {
        std::rethrow_exception(error);
    }
    catch (const courier::error& e)
    {
        if (e.code().category() != courier_category())
            return false;
        switch (static_cast<errc>(e.code().value()))
        {
        case errc::bad_configuration:
        case errc::not_found:
        case errc::access_denied:
        case errc::invalid_credentials: return true;
        default: return false;
        }
    }
    catch (...)
    {
        return false;
    }
}

std::string error_text(std::exception_ptr error)
{
    if (!error)
        return "no error";
    try
    {
        std::rethrow_exception(error);
    }
    catch (const std::exception& e)
    {
        return e.what();
    }
    catch (...)
    {
        return "unknown exception";
    }
}

const std::error_category& courier_category() noexcept
{
    static const category instance;
    return instance;
}

error::error(std::error_code code, std::string detail, error_context context)
    : std::system_error(code),
      rendered_(render(detail, context)),
      detail_(std::move(detail)),
      context_(std::move(context))
{
}

} // namespace courier
