// A Route: a Provider, through a MessageTranslator, to a Handler, with an error handler.
//
//     courier::route r("orders", queue, courier::json<order>{},
//         [](order o, courier::context& ctx) -> boost::asio::awaitable<void> { ... },
//         {.max_in_flight = 32, .on_error = courier::retry_with_backoff()});
//
// Without a translator the handler gets the raw `courier::message`. The handler shapes are
// in handler.hpp, batch handlers (`courier::batch(...)`) in batch.hpp, the settings in
// route_options.hpp.
#ifndef COURIER_ROUTE_HPP
#define COURIER_ROUTE_HPP

#include <courier/batch.hpp>
#include <courier/handler.hpp>
#include <courier/provider.hpp>
#include <courier/route_options.hpp>
#include <courier/route_stats.hpp>
#include <courier/translator.hpp>

#include <boost/asio/awaitable.hpp>

#include <concepts>
#include <memory>
#include <span>
#include <string>
#include <type_traits>

namespace courier {

namespace detail {
class route_runner;
}

/// A named connection from a provider to a handler.
///
/// Thread safety: configure before the dispatcher starts; afterwards only `stats()` may be
/// called, from any thread.
class route
{
public:
    /// A route whose handler takes the translator's result.
    template <translator Translator, class Handler>
    requires(!std::same_as<std::remove_cvref_t<Handler>, route_options>)
        route(std::string name, std::shared_ptr<courier::provider> source, Translator translate, Handler handle,
              route_options options = {})
        : route(std::move(name), std::move(source),
                (detail::check_handler_shape<Handler, translated_t<Translator>>(),
                 detail::make_invoke(std::move(translate), std::move(handle))),
                std::move(options))
    {
    }

    /// A route whose handler takes the raw `courier::message`.
    template <class Handler>
    requires(!std::same_as<std::remove_cvref_t<Handler>, detail::invoke_fn>)
        route(std::string name, std::shared_ptr<courier::provider> source, Handler handle, route_options options = {})
        : route(std::move(name), std::move(source),
                (detail::check_handler_shape<Handler, message>(), detail::make_raw_invoke(std::move(handle))),
                std::move(options))
    {
    }

    /// A route whose batch handler takes the translator's results (see batch.hpp).
    template <translator Translator, class Handler>
    route(std::string name, std::shared_ptr<courier::provider> source, Translator translate,
          batch_handler<Handler> handle, route_options options = {})
        : route(std::move(name), std::move(source),
                (check_batch_shape<Handler, translated_t<Translator>>(),
                 detail::make_batch_invoke(std::move(translate), std::move(handle.handle))),
                handle.options, std::move(options))
    {
    }

    /// A route whose batch handler takes raw messages (copies, as `batch_item<courier::message>`).
    template <class Handler>
    route(std::string name, std::shared_ptr<courier::provider> source, batch_handler<Handler> handle,
          route_options options = {})
        : route(std::move(name), std::move(source),
                (check_batch_shape<Handler, message>(), detail::make_raw_batch_invoke(std::move(handle.handle))),
                handle.options, std::move(options))
    {
    }

    /// The type-erased forms the templates above produce.
    route(std::string name, std::shared_ptr<courier::provider> source, detail::invoke_fn invoke, route_options options);
    route(std::string name, std::shared_ptr<courier::provider> source, detail::batch_invoke_fn invoke,
          batch_options batching, route_options options);

    route(route&&) noexcept;
    route& operator=(route&&) noexcept;
    ~route();

    const std::string& name() const noexcept { return name_; }
    courier::provider& provider() const noexcept { return *provider_; }
    const route_options& options() const noexcept { return options_; }
    /// The route's counters so far.
    route_stats stats() const noexcept { return counters_->snapshot(); }

    /// Whether the handler takes batches (`batching()` says how they are gathered).
    bool batched() const noexcept { return static_cast<bool>(batch_invoke_); }
    const batch_options& batching() const noexcept { return batching_; }

    /// Translates and handles one message (the dispatcher calls it; not for batch routes).
    boost::asio::awaitable<void> invoke(context& ctx) const { return invoke_(ctx); }
    /// Translates and handles a batch, leaving each message's failure in its slot.
    boost::asio::awaitable<void> invoke_batch(std::span<detail::batch_slot> slots) const
    {
        return batch_invoke_(slots);
    }

private:
    friend class detail::route_runner;

    template <class Handler, class T> static constexpr void check_batch_shape()
    {
        static_assert(batch_handler_for<Handler, T>,
                      "courier: a batch handler must be callable as boost::asio::awaitable<void>("
                      "std::span<courier::batch_item<T>>) or void(std::span<courier::batch_item<T>>), where T is "
                      "what the route's translator returns (courier::message without a translator)");
    }

    std::string name_;
    std::shared_ptr<courier::provider> provider_;
    detail::invoke_fn invoke_;
    detail::batch_invoke_fn batch_invoke_;
    batch_options batching_;
    route_options options_;
    std::unique_ptr<detail::route_counters> counters_;
};

} // namespace courier

#endif
