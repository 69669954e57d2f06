// The refresh policy of temporary credentials (see refreshing_provider.hpp).
//
// Waiting callers sleep on a timer that never expires; the fetch that completes bumps
// `generation_` and cancels the timer, which wakes them all. A waiter that wakes with the
// generation unchanged was cancelled by its own caller. The fetch runs as its own detached
// coroutine, so neither a cancelled caller nor the end of the caller that started it can
// abort it half-way for the others.
#include "aws/refreshing_provider.hpp"

#include "aws/credential_parsing.hpp"
#include "courier/error.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <utility>

namespace courier::aws {

namespace asio = boost::asio;
using std::chrono::system_clock;

namespace {

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

bool valid_at(const credentials& creds, system_clock::time_point now)
{
    return !creds.expires_within(std::chrono::seconds(0), now);
}

std::string expiry_text(const credentials& creds)
{
    return creds.expiration ? format_iso8601(*creds.expiration) : std::string("never");
}

} // namespace

refreshing_provider::refreshing_provider(asio::any_io_executor ex, logger log)
    : strand_(detail::make_serial(ex)), log_(std::move(log))
    , refreshed_(strand_, std::chrono::steady_clock::time_point::max())
{
}

std::optional<credentials> refreshing_provider::snapshot() const
{
    std::lock_guard lock(mutex_);
    return cached_;
}

asio::awaitable<credentials> refreshing_provider::get()
{
    // The common case: cached and not yet due, no strand hop.
    std::optional<credentials> current = snapshot();
    if (current && !current->expires_within(refresh_margin, system_clock::now()))
        co_return std::move(*current);
    co_return co_await asio::co_spawn(strand_, get_on_strand(shared_from_this()),
                                      asio::use_awaitable);
}

asio::awaitable<credentials> refreshing_provider::get_on_strand(
    std::shared_ptr<refreshing_provider> self)
{
    refreshing_provider& p = *self;
    std::optional<credentials> current = p.snapshot();
    const auto now = system_clock::now();
    if (current && !current->expires_within(refresh_margin, now))
        co_return std::move(*current);
    if (current && valid_at(*current, now)) {
        // Still valid: refresh behind the caller's back rather than stall its request.
        if (!p.refreshing_ && std::chrono::steady_clock::now() >= p.next_background_)
            p.start_refresh(true);
        co_return std::move(*current);
    }

    // Nothing valid: wait for a fetch, joining the one in progress if there is one.
    if (!p.refreshing_)
        p.start_refresh(false);
    const auto generation = p.generation_;
    co_await p.refreshed_.async_wait(nothrow);
    if (p.generation_ == generation)
        throw boost::system::system_error(asio::error::operation_aborted);

    current = p.snapshot();
    if (current && valid_at(*current, system_clock::now()))
        co_return std::move(*current);
    throw error(errc::no_credentials,
                "could not get credentials from " + std::string(p.name()) + ": " + p.last_error_);
}

void refreshing_provider::start_refresh(bool background)
{
    refreshing_ = true;
    asio::co_spawn(strand_, refresh(shared_from_this(), background), asio::detached);
}

asio::awaitable<void> refreshing_provider::refresh(std::shared_ptr<refreshing_provider> self,
                                                   bool background)
{
    refreshing_provider& p = *self;
    const std::string name(p.name());
    std::optional<credentials> fresh;
    std::string failure;
    try {
        p.log_.log(log_level::debug, "", "", "credentials: fetching from {}{}", name,
                   background ? " (background refresh)" : "");
        credentials creds = co_await p.fetch();
        if (creds.access_key_id.empty() || creds.secret_access_key.empty())
            failure = "the source returned empty credentials";
        else if (!valid_at(creds, system_clock::now()))
            failure = "the source returned credentials that expired at " + expiry_text(creds);
        else
            fresh = std::move(creds);
    } catch (const std::exception& e) {
        failure = e.what();
    } catch (...) {
        failure = "unknown failure";
    }

    const auto now = system_clock::now();
    if (fresh) {
        const bool due_soon = fresh->expires_within(refresh_margin, now);
        p.log_.log(log_level::info, "", "", "credentials: got {} from {}, expiring {}",
                   fresh->access_key_id, name, expiry_text(*fresh));
        if (background && due_soon)
            p.next_background_ = std::chrono::steady_clock::now() + retry_pause;
        p.last_error_.clear();
        std::lock_guard lock(p.mutex_);
        p.cached_ = std::move(fresh);
    } else {
        p.last_error_ = failure;
        p.next_background_ = std::chrono::steady_clock::now() + retry_pause;
        const std::optional<credentials> current = p.snapshot();
        if (current && valid_at(*current, now))
            p.log_.log(log_level::warning, "", "",
                       "credentials: refresh from {} failed, keeping the cached ones until "
                       "they expire at {}: {}",
                       name, expiry_text(*current), failure);
        else
            p.log_.log(log_level::warning, "", "", "credentials: fetching from {} failed: {}",
                       name, failure);
    }
    ++p.generation_;
    p.refreshing_ = false;
    p.refreshed_.cancel();
}

} // namespace courier::aws
