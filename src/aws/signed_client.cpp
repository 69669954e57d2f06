// The signed, retried call shared by courier's AWS clients.
#include "aws/signed_client.hpp"

#include "detail/cancellation.hpp"
#include "metrics/request_metrics.hpp"

#include <courier/error.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdlib>

namespace asio = boost::asio;
using std::chrono::milliseconds;

namespace courier::aws {

namespace {

// "https://sqs.eu-west-1.amazonaws.com" -> "eu-west-1"; empty if not of that form.
std::string region_from_host(std::string_view endpoint, std::string_view prefix)
{
    const std::string marker = "://" + std::string(prefix) + ".";
    const auto start = endpoint.find(marker);
    if (start == std::string_view::npos)
        return {};
    const auto from = start + marker.size();
    const auto end = endpoint.find(".amazonaws.com", from);
    return end == std::string_view::npos ? std::string() : std::string(endpoint.substr(from, end - from));
}

// The signing region: explicit, else the SDKs' sources; with none of those, an endpoint
// (explicit or from the environment) names it, and emulators accept any.
std::string pick_region(const client_options& o, const service_names& s)
{
    if (!o.region.empty())
        return o.region;
    try
    {
        return resolve_region({});
    }
    catch (const error&)
    {
        std::string endpoint = o.endpoint;
        const std::string specific = "AWS_ENDPOINT_URL_" + std::string(s.env_suffix);
        for (const char* name : {specific.c_str(), "AWS_ENDPOINT_URL"})
            if (const char* v = std::getenv(name); endpoint.empty() && v != nullptr)
                endpoint = v;
        if (endpoint.empty())
            throw;
        const auto named = region_from_host(endpoint, s.host_prefix);
        return named.empty() ? "us-east-1" : named;
    }
}

http::client_options http_options(const client_options& o)
{
    http::client_options h;
    h.max_connections = o.max_connections;
    h.connect_timeout = o.connect_timeout;
    h.request_timeout = o.request_timeout;
    h.max_response_body = o.max_response_bytes;
    h.ca_file = o.ca_file;
    h.verify_peer = o.verify_tls;
    return h;
}

http::retry_options retry_settings(const client_options& o)
{
    using std::chrono::milliseconds;
    if (o.retry_base_delay < milliseconds::zero() || o.throttling_retry_base_delay < milliseconds::zero() ||
        o.max_retry_delay < milliseconds::zero())
        throw error(errc::bad_configuration, "client options: retry delays must not be negative");
    return {.max_attempts = std::max(o.max_attempts, 1u),
            .base_delay = o.retry_base_delay,
            .throttling_base_delay = o.throttling_retry_base_delay,
            .max_backoff = o.max_retry_delay};
}

} // namespace

signed_client::signed_client(asio::any_io_executor executor, client_options options, service_names service,
                             error_reader read_error)
    : options_(std::move(options)),
      clock_(options_.clock ? options_.clock : courier::steady_clock()),
      service_label_(service.env_suffix),
      strand_(detail::make_serial(executor)),
      region_(pick_region(options_, service)),
      endpoint_(resolve_endpoint(service.env_suffix, service.host_prefix, options_.endpoint, region_)),
      http_(strand_, http::endpoint::parse(endpoint_), http_options(options_)),
      signer_(signer_options{.region = region_, .service = std::string(service.signing_name)}),
      retry_(retry_settings(options_)),
      read_error_(std::move(read_error))
{
    if (!options_.credentials)
        options_.credentials = default_credentials_chain(executor, {.log = options_.log, .clock = clock_});
}

asio::awaitable<std::string> signed_client::call(service_request request, milliseconds timeout)
{
    // A caller already on the client's executor (an io_context run by one thread: no
    // strands, see make_serial) runs the call in its own coroutine: a co_spawn and the
    // posted hop back cost more than signing.
    const asio::any_io_executor caller = co_await asio::this_coro::executor;
    if (caller == strand_)
    {
        // Its cancellation then reaches the call as it is. What honours it throws by itself
        // (the wait for a connection, connecting, a retry pause), all before anything is
        // sent. An exchange in progress yields only to terminal cancellation (Beast's and
        // Asio's composed operations let no other type through): the receive loop's total
        // cancellation at a graceful stop must not then be thrown at the next co_await
        // either, as the coroutine would by default, which would drop an answer the server
        // has already sent (a long poll's messages, hidden until their visibility timeout).
        const auto state = co_await asio::this_coro::cancellation_state;
        if (state.cancelled() != asio::cancellation_type::none)
            throw boost::system::system_error(asio::error::operation_aborted);
        const bool throws = co_await asio::this_coro::throw_if_cancelled();
        co_await asio::this_coro::throw_if_cancelled(false);
        std::exception_ptr failure;
        std::string body;
        try
        {
            body = co_await attempt_loop(std::move(request), timeout);
        }
        catch (...)
        {
            failure = std::current_exception();
        }
        co_await asio::this_coro::throw_if_cancelled(throws);
        if (failure)
            std::rethrow_exception(failure);
        co_return body;
    }
    // Otherwise hop to the strand for the whole call; the caller resumes on its own executor.
    co_return co_await asio::co_spawn(strand_, attempt_loop(std::move(request), timeout), asio::use_awaitable);
}

asio::awaitable<std::string> signed_client::attempt_loop(service_request request, milliseconds timeout)
{
    http::retry_state attempts(retry_);
    // Built only for a failure: every request passes here.
    auto where = [&] {
        return error_context{.action = std::string(request.action), .queue = std::string(request.resource)};
    };
    auto& measured = request_series(request.action);
    bool credentials_renewed = false;
    bool clock_corrected = false;
    for (;;)
    {
        const credentials creds = co_await options_.credentials->get();
        http::request req;
        req.method = "POST";
        req.target = "/";
        req.body = request.body;
        header_field to_sign[3] = {
            {"content-type", request.content_type},
            {"host", http_.remote().host_header},
            {"x-amz-target", request.target},
        };
        const std::size_t signed_count = request.target.empty() ? 2 : 3;
        const auto headers = signer_.sign(http_request{.method = "POST",
                                                       .path = "/",
                                                       .query = {},
                                                       .headers = std::span(to_sign, signed_count),
                                                       .body = request.body},
                                          creds, skew_.signing_time(clock_->system_now()));
        req.headers.emplace_back("Content-Type", request.content_type);
        if (!request.target.empty())
            req.headers.emplace_back("X-Amz-Target", request.target);
        headers.for_each([&](std::string_view name, std::string_view value) {
            req.headers.emplace_back(std::string(name), std::string(value));
        });

        ++attempts_sent_;
        std::exception_ptr transport_failure;
        http::response resp;
        const auto sent = clock_->now();
        try
        {
            // This coroutine already runs on the client's strand (see `call`).
            resp = co_await http_.send_on_executor(std::move(req), timeout);
        }
        catch (...)
        {
            transport_failure = std::current_exception();
        }
        measured.duration.observe(std::chrono::duration<double>(clock_->now() - sent).count());
        (!transport_failure && resp.status == 200 ? measured.succeeded : measured.failed)
            .fetch_add(1, std::memory_order_relaxed);
        if (transport_failure && courier::detail::is_operation_aborted(transport_failure))
            std::rethrow_exception(transport_failure);

        http::attempt_failure failure;
        std::exception_ptr final_error;
        if (transport_failure)
        {
            // Connection failures, timeouts and unreadable answers are retried; the last one
            // is reported with the action and resource added.
            try
            {
                std::rethrow_exception(transport_failure);
            }
            catch (const error& e)
            {
                failure = {.retryable = true, .timeout = e.detail().find("timeout") != std::string::npos};
                final_error = std::make_exception_ptr(
                    error(e.code(), std::string(request.action) + " failed: " + e.detail(), where()));
            }
            catch (const std::exception& e)
            {
                failure = {.retryable = true};
                final_error = std::make_exception_ptr(
                    error(errc::transport_failed, std::string(request.action) + " failed: " + e.what(), where()));
            }
        }
        else if (resp.status == 200)
        {
            attempts.on_success();
            co_return std::move(resp.body);
        }
        else
        {
            auto answer = read_error_(resp, request);
            if (sign_again(answer, resp, creds, request, credentials_renewed, clock_corrected))
                continue;
            failure = {.retryable = answer.retryable, .timeout = false, .throttling = answer.throttling};
            final_error = std::make_exception_ptr(std::move(answer.error));
        }

        const auto decision = attempts.on_failure(failure);
        if (!decision)
            std::rethrow_exception(final_error);
        // The first failure of a call is a warning, so that an endpoint that accepts and never
        // answers shows within one request timeout; throttling and later attempts are routine
        // for a retrying client and would flood the log.
        const bool first_failure = attempts.attempts() == 1 && !failure.throttling;
        options_.log.log(first_failure ? log_level::warning : log_level::debug, {}, {},
                         "{} attempt {} failed ({}); retrying in {} ms", request.action, attempts.attempts(),
                         error_text(final_error), decision.delay.count());
        co_await clock_->sleep_for(decision.delay);
    }
}

courier::detail::metrics::request_series& signed_client::request_series(std::string_view action)
{
    // A client calls a handful of actions: a short list on the strand spares every request
    // the registry's lock and lookups.
    for (const auto& [name, series] : measured_actions_)
        if (name == action)
            return *series;
    auto& series = courier::detail::metrics::request_registry::instance().series(service_label_, action);
    measured_actions_.emplace_back(std::string(action), &series);
    return series;
}

bool signed_client::sign_again(const failed_answer& answer, const http::response& response, const credentials& used,
                               const service_request& request, bool& renewed, bool& corrected)
{
    const auto& context = answer.error.context();
    switch (answer.auth)
    {
    case auth_refusal::none: return false;
    case auth_refusal::expired_credentials:
    case auth_refusal::invalid_credentials:
        if (renewed)
            return false;
        renewed = true;
        if (!options_.credentials->invalidate(used))
            return false;
        options_.log.log(log_level::warning, {}, {},
                         "{}: the server refused the credentials {} ({}: {}); signing again with fresh ones from {}",
                         request.action, used.access_key_id, context.server_code, context.server_message,
                         options_.credentials->name());
        return true;
    case auth_refusal::clock_skew:
        if (corrected)
            return false;
        corrected = true;
        if (!skew_.correct(response.header("date"), clock_->system_now()))
            return false;
        options_.log.log(log_level::warning, {}, {},
                         "{}: the server says the request time is off ({}: {}); signing again with its time "
                         "(its clock minus ours: {} s)",
                         request.action, context.server_code, context.server_message,
                         std::chrono::duration_cast<std::chrono::seconds>(skew_.offset()).count());
        return true;
    }
    return false;
}

} // namespace courier::aws
