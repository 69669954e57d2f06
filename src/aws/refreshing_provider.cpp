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

#include <fmt/format.h>

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

refreshing_provider::refreshing_provider(asio::any_io_executor ex, refresh_settings settings)
    : strand_(detail::make_serial(ex)),
      settings_(std::move(settings)),
      refreshed_(strand_, std::chrono::steady_clock::time_point::max())
{
    if (!settings_.clock)
        settings_.clock = courier::steady_clock();
}

std::optional<credentials> refreshing_provider::snapshot() const
{
    std::lock_guard lock(mutex_);
    return cached_;
}

bool refreshing_provider::may_fetch(courier::clock::time_point now) const
{
    return !last_fetch_ || now - *last_fetch_ >= settings_.min_refresh_interval;
}

asio::awaitable<credentials> refreshing_provider::get()
{
    // The common case: cached and not yet due, no strand hop.
    std::optional<credentials> current = snapshot();
    if (current && !current->expires_within(refresh_margin, settings_.clock->system_now()))
        co_return std::move(*current);
    co_return co_await asio::co_spawn(strand_, get_on_strand(shared_from_this()), asio::use_awaitable);
}

bool refreshing_provider::invalidate(const credentials& used)
{
    std::lock_guard lock(mutex_);
    // Compared in full: a source may rotate the secret or the token under the same key id.
    const bool still_cached = cached_ && cached_->access_key_id == used.access_key_id &&
                              cached_->secret_access_key == used.secret_access_key &&
                              cached_->session_token == used.session_token;
    if (!still_cached)
        return true; // replaced meanwhile: the next get() returns the new set
    if (!may_fetch(settings_.clock->now()))
        return false;
    cached_.reset();
    return true;
}

asio::awaitable<credentials> refreshing_provider::get_on_strand(std::shared_ptr<refreshing_provider> self)
{
    refreshing_provider& p = *self;
    courier::clock& clock = *p.settings_.clock;
    std::optional<credentials> current = p.snapshot();
    const auto now = clock.system_now();
    if (current && !current->expires_within(refresh_margin, now))
        co_return std::move(*current);
    if (current && valid_at(*current, now))
    {
        // Still valid: refresh behind the caller's back rather than stall its request.
        if (!p.refreshing_ && p.may_fetch_now())
            p.start_refresh(true);
        co_return std::move(*current);
    }

    // Nothing valid: wait for a fetch, joining the one in progress if there is one. Right
    // after a failed fetch, the caller gets its failure instead of starting another. The
    // generation is taken first: a fetch that never suspends completes inside start_refresh.
    const auto generation = p.generation_;
    if (!p.refreshing_)
    {
        if (!p.last_error_.empty() && !p.may_fetch_now())
            throw error(errc::no_credentials,
                        fmt::format("could not get credentials from {}: {} (fetches start at most every {} ms)",
                                    p.name(), p.last_error_, p.settings_.min_refresh_interval.count()));
        p.start_refresh(false);
    }
    if (p.generation_ == generation)
        co_await p.refreshed_.async_wait(nothrow);
    if (p.generation_ == generation)
        throw boost::system::system_error(asio::error::operation_aborted);

    current = p.snapshot();
    if (current && valid_at(*current, clock.system_now()))
        co_return std::move(*current);
    throw error(errc::no_credentials, "could not get credentials from " + std::string(p.name()) + ": " + p.last_error_);
}

void refreshing_provider::start_refresh(bool background)
{
    {
        std::lock_guard lock(mutex_);
        last_fetch_ = settings_.clock->now();
    }
    refreshing_ = true;
    asio::co_spawn(strand_, refresh(shared_from_this(), background), asio::detached);
}

asio::awaitable<void> refreshing_provider::refresh(std::shared_ptr<refreshing_provider> self, bool background)
{
    refreshing_provider& p = *self;
    const logger& log = p.settings_.log;
    const std::string name(p.name());
    std::optional<credentials> fresh;
    std::string failure;
    try
    {
        log.log(log_level::debug, "", "", "credentials: fetching from {}{}", name,
                background ? " (background refresh)" : "");
        credentials creds = co_await p.fetch();
        if (creds.access_key_id.empty() || creds.secret_access_key.empty())
            failure = "the source returned empty credentials";
        else if (!valid_at(creds, p.settings_.clock->system_now()))
            failure = "the source returned credentials that expired at " + expiry_text(creds);
        else
            fresh = std::move(creds);
    }
    catch (const std::exception& e)
    {
        failure = e.what();
    }
    catch (...)
    {
        failure = "unknown failure";
    }

    const auto now = p.settings_.clock->system_now();
    if (fresh)
    {
        log.log(log_level::info, "", "", "credentials: got {} from {}, expiring {}", fresh->access_key_id, name,
                expiry_text(*fresh));
        p.last_error_.clear();
        std::lock_guard lock(p.mutex_);
        p.cached_ = std::move(fresh);
    }
    else
    {
        p.last_error_ = failure;
        const std::optional<credentials> current = p.snapshot();
        if (current && valid_at(*current, now))
            log.log(log_level::warning, "", "",
                    "credentials: refresh from {} failed, keeping the cached ones until "
                    "they expire at {}: {}",
                    name, expiry_text(*current), failure);
        else
            log.log(log_level::warning, "", "", "credentials: fetching from {} failed: {}", name, failure);
    }
    ++p.generation_;
    p.refreshing_ = false;
    p.refreshed_.cancel();
}

} // namespace courier::aws
