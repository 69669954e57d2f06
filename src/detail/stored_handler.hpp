// A completion handler kept for later: the waiting side of courier's own asynchronous
// operations (async_event, the SQS batcher). `store` moves a handler of signature
// void(Args...) into a node from Asio's recycling allocator; `complete` posts it, with its
// arguments, to its associated executor and frees the node. A handler is never invoked
// inside the call that completes it.
#ifndef COURIER_DETAIL_STORED_HANDLER_HPP
#define COURIER_DETAIL_STORED_HANDLER_HPP

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/recycling_allocator.hpp>

#include <new>
#include <tuple>
#include <utility>

namespace courier::detail {

template <class... Args> class stored_handler
{
public:
    /// Clears the handler's cancellation slot, posts `handler(args...)` and frees the node.
    virtual void complete(Args... args) = 0;

    template <class Handler> static stored_handler* store(Handler handler);

protected:
    ~stored_handler() = default;
};

namespace stored_handler_impl {

template <class Handler, class... Args> class node final : public stored_handler<Args...>
{
public:
    using allocator = boost::asio::recycling_allocator<node>;

    explicit node(Handler h)
        : handler_(std::move(h))
    {
    }

    void complete(Args... args) override
    {
        // A slot handler may refer to this node: it must not run once the node is gone.
        boost::asio::get_associated_cancellation_slot(handler_).clear();
        auto executor = boost::asio::get_associated_executor(handler_);
        Handler h = std::move(handler_);
        destroy(this);
        boost::asio::post(executor, [h = std::move(h), args = std::make_tuple(std::move(args)...)]() mutable {
            std::apply(std::move(h), std::move(args));
        });
    }

    static node* create(Handler h)
    {
        allocator a;
        auto* p = a.allocate(1);
        try
        {
            return new (p) node(std::move(h));
        }
        catch (...)
        {
            a.deallocate(p, 1);
            throw;
        }
    }

private:
    static void destroy(node* n)
    {
        allocator a;
        n->~node();
        a.deallocate(n, 1);
    }

    Handler handler_;
};

} // namespace stored_handler_impl

template <class... Args>
template <class Handler>
stored_handler<Args...>* stored_handler<Args...>::store(Handler handler)
{
    return stored_handler_impl::node<Handler, Args...>::create(std::move(handler));
}

} // namespace courier::detail

#endif
