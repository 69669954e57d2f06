// One route's life: open the provider; receive while there is room; let a worker handle
// each message and settle it as `plan_settlement` says; keep long handlers' messages hidden;
// drain on stop. See dispatcher.hpp for the shutdown contract.
#include "core/route_runner.hpp"

#include "core/heartbeat.hpp"
#include "detail/cancellation.hpp"
#include "detail/serial_executor.hpp"

#include <courier/error.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using std::chrono::milliseconds;

namespace courier::detail {

namespace {

// The route's strand: its provider's executor when it has one (a broker connection's),
// else a serial executor of its own.
asio::any_io_executor strand_for(const route& r, const asio::any_io_executor& inner)
{
    if (auto own = r.provider().executor())
        return *std::move(own);
    return make_serial(inner);
}

} // namespace

route_runner::route_runner(asio::any_io_executor executor, const route& r, const dispatch_shared& shared)
    : inner_(std::move(executor)),
      strand_(strand_for(r, inner_)),
      route_(r),
      shared_(shared),
      log_(shared.options.log, r.name()),
      counters_(*r.counters_),
      room_(r.options().max_in_flight, shared.global_slots),
      messages_(*this),
      workers_(
          strand_, r.options().max_in_flight,
          [this](pool::worker& w) { return route_.batched() ? batch_work(w) : work(w); },
          [this](std::exception_ptr e) { loop_ended("worker", e); }, r.batched() ? r.batching().max_messages : 1),
      hooks_(shared.options.hooks),
      measure_(shared.options.record_metrics || static_cast<bool>(shared.options.hooks.handled))
{
}

// Receiving or opening failed in a way retrying cannot heal: the route stops, and the
// dispatcher with it.
void route_runner::failed_for_good(std::exception_ptr error)
{
    log_(log_level::error, "stopping: {}", error_text(error));
    permanent_failure_ = std::move(error);
    metrics_.state = metrics::route_state::failed;
    stopping_ = true;
    changed_.notify();
}

void route_runner::stop()
{
    asio::post(strand_, [self = shared_from_this()] {
        self->stopping_ = true;
        self->workers_.stop_collecting(); // a batch being gathered is not started
        self->changed_.notify();
    });
}

void route_runner::stop_now()
{
    asio::post(strand_, [self = shared_from_this()] {
        self->stopping_ = true;
        self->terminal_ = true;
        self->workers_.stop_collecting();
        // Abandon a receive in flight too (see provider::receive on what that costs).
        self->receive_cancel_.emit(asio::cancellation_type::terminal);
        self->changed_.notify();
    });
}

void route_runner::loop_ended(std::string_view what, std::exception_ptr error)
{
    // The loops catch what they expect; anything else is a bug worth a line.
    if (error && !is_operation_aborted(error))
        log_(log_level::error, "{} ended: {}", what, error_text(error));
    changed_.notify();
}

asio::awaitable<stop_kind> route_runner::run()
{
    auto self = shared_from_this();
    if (co_await open_provider())
        start_loops();
    while (!stopping_)
        co_await changed_.wait();
    co_return co_await shut_down();
}

// Opens the provider, retrying with back-off until it works or the route stops.
asio::awaitable<bool> route_runner::open_provider()
{
    auto& source = route_.provider();
    auto backoff = route_.options().receive_error_backoff;
    while (!stopping_)
    {
        try
        {
            co_await source.open(route_.options().max_in_flight);
            capabilities_ = source.capabilities();
            settles_ = settlement_capabilities_of(capabilities_);
            if (capabilities_.redelivery != redelivery_info::exact_count)
                delivery_counts_.emplace(std::max<std::size_t>(1024, 16 * route_.options().max_in_flight));
            log_(log_level::info, "started on {}", source.name());
            metrics_.state = metrics::route_state::running;
            co_return true;
        }
        catch (...)
        {
            if (stopping_)
                break;
            const auto failure = std::current_exception();
            ++counters_.provider_errors;
            metrics_.provider_error(failure);
            metrics_.receive_failed(error_text(failure));
            if (is_permanent(failure) &&
                shared_.options.on_permanent_error == dispatcher_options::permanent_errors::stop)
            {
                failed_for_good(failure);
                break;
            }
            log_(log_level::warning, "opening {} failed: {}; retrying in {} ms", source.name(), error_text(failure),
                 backoff.count());
        }
        co_await (shared_.clock->sleep_for(backoff) || changed_.wait());
        backoff = std::min<milliseconds>(backoff * 2, std::chrono::seconds(30));
    }
    co_return false;
}

void route_runner::start_loops()
{
    auto self = shared_from_this();
    receiving_ = true;
    const receiver_context receiving{route_.provider(),
                                     room_,
                                     *this,
                                     *shared_.clock,
                                     log_,
                                     counters_,
                                     metrics_,
                                     route_.options(),
                                     inner_,
                                     shared_.options.on_permanent_error == dispatcher_options::permanent_errors::stop};
    asio::co_spawn(strand_, receive_loop(receiving, stopping_),
                   asio::bind_cancellation_slot(receive_cancel_.slot(), [self](std::exception_ptr e) {
                       self->receiving_ = false;
                       self->loop_ended("receive loop", e);
                   }));
    if (!route_.options().heartbeat || capabilities_.visibility == nullptr ||
        capabilities_.visibility->visibility_timeout() <= milliseconds::zero())
        return;
    heartbeating_ = true;
    const heartbeat_context beating{
        *capabilities_.visibility, messages_, *shared_.clock, log_, counters_, metrics_, strand_, self};
    asio::co_spawn(strand_, heartbeat_loop(beating),
                   asio::bind_cancellation_slot(heartbeat_cancel_.slot(), [self](std::exception_ptr e) {
                       self->heartbeating_ = false;
                       self->loop_ended("heartbeat", e);
                   }));
}

void route_runner::received(message&& msg, clock::time_point received_at)
{
    if (delivery_counts_)
        delivery_counts_->count(msg, capabilities_.redelivery);
    else
        msg.redelivered = msg.receive_count > 1;
    const entry e = messages_.add(std::move(msg), received_at);
    if (messages_.size() > counters_.in_flight_peak)
        counters_.in_flight_peak = messages_.size();
    metrics_.in_flight.store(messages_.size(), std::memory_order_relaxed);
    if (measure_ && e->msg.sent_at != std::chrono::system_clock::time_point{})
        metrics_.message_age.observe(
            std::chrono::duration<double>(std::chrono::system_clock::now() - e->msg.sent_at).count());
    if (hooks_.received)
        call_hook(hooks_.received, e->msg);
    if (!e->msg.group_id.empty())
    {
        if (!groups_.admit(e->msg.group_id, e))
            return; // waits behind its group's running message
        e->group_head = true;
    }
    workers_.push(e);
}

} // namespace courier::detail
