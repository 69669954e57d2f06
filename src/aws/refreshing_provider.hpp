// The caching and refreshing shared by every provider of temporary credentials.
//
// A subclass only says how to fetch one set of credentials (`fetch`); this base decides when:
// never while the cached set is more than `refresh_margin` from expiring; in the background,
// while callers keep the cached set, once it is within the margin; and with callers waiting
// only when nothing valid is cached. One fetch at a time: callers arriving during a fetch
// share it. All of this state lives on a strand, so callers on any executor or thread are
// safe; the fast path (valid, not yet due) only takes a mutex.
#ifndef COURIER_SRC_AWS_REFRESHING_PROVIDER_HPP
#define COURIER_SRC_AWS_REFRESHING_PROVIDER_HPP

#include "courier/aws/credentials_provider.hpp"
#include "detail/serial_executor.hpp"

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

class refreshing_provider : public credentials_provider,
                            public std::enable_shared_from_this<refreshing_provider>
{
public:
    /// Credentials this close to their expiration are refreshed (the SDKs use 5 minutes too).
    static constexpr std::chrono::seconds refresh_margin{300};
    /// Pause before another background refresh after one that failed or brought credentials
    /// already within the margin, so a struggling endpoint is not hammered on every `get()`.
    static constexpr std::chrono::seconds retry_pause{10};

    boost::asio::awaitable<credentials> get() final;

protected:
    refreshing_provider(boost::asio::any_io_executor ex, logger log);

    /// Fetches a new set of credentials; runs on `strand()`, one call at a time. Throws
    /// anything on failure; the message (never a secret) ends up in the log and in errors.
    virtual boost::asio::awaitable<credentials> fetch() = 0;

    using strand_type = boost::asio::any_io_executor; // a strand, see make_serial
    const strand_type& strand() const noexcept { return strand_; }
    const logger& log() const noexcept { return log_; }

private:
    static boost::asio::awaitable<credentials> get_on_strand(
        std::shared_ptr<refreshing_provider> self);
    static boost::asio::awaitable<void> refresh(std::shared_ptr<refreshing_provider> self,
                                                bool background);
    void start_refresh(bool background);
    std::optional<credentials> snapshot() const;

    strand_type strand_;
    logger log_;

    // Read by `get()` on any thread, written on the strand: guarded by the mutex.
    mutable std::mutex mutex_;
    std::optional<credentials> cached_;

    // Strand only.
    bool refreshing_ = false;
    std::uint64_t generation_ = 0;           // completed fetches; waiters compare it
    boost::asio::steady_timer refreshed_;    // never expires; cancelled to wake the waiters
    std::string last_error_;                 // why the last fetch failed
    std::chrono::steady_clock::time_point next_background_{};
};

} // namespace courier::aws

#endif
