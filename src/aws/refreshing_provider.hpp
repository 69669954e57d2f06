// The caching and refreshing shared by every provider of temporary credentials.
//
// A subclass only says how to fetch one set of credentials (`fetch`); this base decides when:
// never while the cached set is more than `refresh_margin` from expiring; in the background,
// while callers keep the cached set, once it is within the margin; and with callers waiting
// only when nothing valid is cached. One fetch at a time: callers arriving during a fetch
// share it. Fetches start at most once per `min_refresh_interval` (unless the cached set
// expired), so neither a failing source nor a server that keeps refusing the credentials
// (`invalidate`) makes courier hammer the source. All of this state lives on a strand, so
// callers on any executor or thread are safe; the fast path (valid, not yet due) only takes a
// mutex. Time comes from a courier::clock, so tests run expirations on simulated time.
#ifndef COURIER_SRC_AWS_REFRESHING_PROVIDER_HPP
#define COURIER_SRC_AWS_REFRESHING_PROVIDER_HPP

#include "courier/aws/credentials_provider.hpp"
#include "detail/serial_executor.hpp"

#include <courier/clock.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace courier::aws {

/// How a refreshing provider logs, keeps time and paces its fetches (see
/// `credential_chain_options`).
struct refresh_settings
{
    logger log{};
    std::shared_ptr<courier::clock> clock; ///< null: real time
    std::chrono::milliseconds min_refresh_interval{std::chrono::seconds(10)};
};

class refreshing_provider : public credentials_provider, public std::enable_shared_from_this<refreshing_provider>
{
public:
    /// Credentials this close to their expiration are refreshed (the SDKs use 5 minutes too).
    static constexpr std::chrono::seconds refresh_margin{300};

    boost::asio::awaitable<credentials> get() final;
    bool invalidate(const credentials& used) final;

protected:
    refreshing_provider(boost::asio::any_io_executor ex, refresh_settings settings);

    /// Fetches a new set of credentials; runs on `strand()`, one call at a time. Throws
    /// anything on failure; the message (never a secret) ends up in the log and in errors.
    virtual boost::asio::awaitable<credentials> fetch() = 0;

    using strand_type = boost::asio::any_io_executor; // a strand, see make_serial
    const strand_type& strand() const noexcept { return strand_; }
    const logger& log() const noexcept { return settings_.log; }

private:
    static boost::asio::awaitable<credentials> get_on_strand(std::shared_ptr<refreshing_provider> self);
    static boost::asio::awaitable<void> refresh(std::shared_ptr<refreshing_provider> self, bool background);
    void start_refresh(bool background);
    std::optional<credentials> snapshot() const;
    // May a fetch start at `now`? Under mutex_ (or through may_fetch_now).
    bool may_fetch(courier::clock::time_point now) const;
    bool may_fetch_now() const
    {
        std::lock_guard lock(mutex_);
        return may_fetch(settings_.clock->now());
    }

    strand_type strand_;
    refresh_settings settings_;

    // Read by `get()` and `invalidate()` on any thread, written on the strand: guarded.
    mutable std::mutex mutex_;
    std::optional<credentials> cached_;
    std::optional<courier::clock::time_point> last_fetch_; // when the last fetch started

    // Strand only.
    bool refreshing_ = false;
    std::uint64_t generation_ = 0;        // completed fetches; waiters compare it
    boost::asio::steady_timer refreshed_; // never expires; cancelled to wake the waiters
    std::string last_error_;              // why the last fetch failed; empty if it did not
};

} // namespace courier::aws

#endif
