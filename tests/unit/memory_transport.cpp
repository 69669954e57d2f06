// The in-memory transport: a stream whose writes feed a request parser and a scripted server,
// and whose reads deliver the server's answers, and the connection that runs the client's
// http::exchange over it (the same template the network connection runs over sockets).
#include "memory_transport.hpp"

#include "http/exchange.hpp"

#include <courier/error.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/beast/http/status.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <deque>
#include <optional>

namespace courier_test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using boost::system::error_code;

std::string_view to_string(io_step step)
{
    switch (step)
    {
    case io_step::connect: return "connect";
    case io_step::write: return "write";
    case io_step::read_header: return "read of the header";
    case io_step::read_body: return "read of the body";
    case io_step::close: return "close";
    }
    return "?";
}

answer answer::http(unsigned status, std::string body, bool keep_alive,
                    std::vector<std::pair<std::string, std::string>> extra_headers)
{
    std::string head = "HTTP/1.1 " + std::to_string(status) + " " +
                       std::string(bhttp::obsolete_reason(static_cast<bhttp::status>(status))) + "\r\n";
    for (const auto& [name, value] : extra_headers)
        head.append(name).append(": ").append(value).append("\r\n");
    head.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
    if (!keep_alive)
        head.append("Connection: close\r\n");
    head.append("\r\n");
    answer a;
    a.pieces.push_back(std::move(head));
    if (!body.empty())
        a.pieces.push_back(std::move(body));
    a.close = !keep_alive;
    return a;
}

answer answer::raw(std::vector<std::string> pieces)
{
    return {.pieces = std::move(pieces), .close = true};
}

answer answer::none()
{
    return {.hang = true};
}

answer answer::eof()
{
    return {.close = true};
}

// ---- the transport's books ------------------------------------------------------------

struct memory_transport::state
{
    enum class verdict
    {
        proceed,
        fail,
        stall,
    };

    server serve;
    std::size_t fail_at = 0;
    error_code fail_error;
    bool fired = false;
    std::size_t max_write = 0;
    std::vector<seen_request> requests;
    std::vector<step_record> steps;
    std::size_t opened = 0;
    std::size_t closed = 0;

    verdict step(io_step kind, std::size_t connection, const std::string& action)
    {
        const std::size_t number = steps.size() + 1;
        const bool hit = number == fail_at;
        steps.push_back({number, kind, connection, action, hit});
        if (!hit)
            return verdict::proceed;
        fired = true;
        return fail_error ? verdict::fail : verdict::stall;
    }
};

namespace {

using io_handler = asio::any_completion_handler<void(error_code, std::size_t)>;

// The action of a request whose head starts `bytes`, or empty if they hold no request line.
std::string action_in(std::string_view bytes)
{
    const auto line_end = bytes.find("\r\n");
    if (line_end == std::string_view::npos || bytes.substr(0, line_end).find(" HTTP/1.1") == std::string_view::npos)
        return {};
    const auto head_end = bytes.find("\r\n\r\n");
    const std::string_view head = bytes.substr(0, head_end);
    for (std::string_view marker : {"\r\nX-Amz-Target: ", "\r\nx-amz-target: "})
        if (const auto at = head.find(marker); at != std::string_view::npos)
        {
            const auto from = at + marker.size();
            std::string_view value = head.substr(from, head.find("\r\n", from) - from);
            const auto dot = value.find('.');
            return std::string(dot == std::string_view::npos ? value : value.substr(dot + 1));
        }
    const std::string_view line = bytes.substr(0, line_end);
    return std::string(line.substr(0, line.rfind(' ')));
}

// One side of a connection as the client sees it: an AsyncReadStream and AsyncWriteStream.
class memory_stream : public std::enable_shared_from_this<memory_stream>
{
public:
    using executor_type = asio::any_io_executor;
    using verdict = memory_transport::state::verdict;

    memory_stream(executor_type ex, std::shared_ptr<memory_transport::state> s, std::size_t id)
        : ex_(std::move(ex)),
          state_(std::move(s)),
          id_(id)
    {
    }

    executor_type get_executor() const noexcept { return ex_; }

    template <class MutableBufferSequence, class Token>
    auto async_read_some(const MutableBufferSequence& buffers, Token&& token)
    {
        return asio::async_initiate<Token, void(error_code, std::size_t)>(
            [this](auto handler, asio::mutable_buffer into) {
                auto slot = asio::get_associated_cancellation_slot(handler);
                read_.emplace(pending{io_handler(std::move(handler)), into, slot});
                watch(slot, read_);
                serve_read();
            },
            token, first(buffers));
    }

    template <class ConstBufferSequence, class Token>
    auto async_write_some(const ConstBufferSequence& buffers, Token&& token)
    {
        // What this write_some takes: all, or at most max_write bytes.
        const std::size_t size = asio::buffer_size(buffers);
        std::string bytes(state_->max_write == 0 ? size : std::min(size, state_->max_write), '\0');
        asio::buffer_copy(asio::buffer(bytes), buffers);
        return asio::async_initiate<Token, void(error_code, std::size_t)>(
            [this](auto handler, std::string bytes) {
                auto slot = asio::get_associated_cancellation_slot(handler);
                pending op{io_handler(std::move(handler)), {}, slot};
                write(std::move(op), std::move(bytes));
            },
            token, std::move(bytes));
    }

    // The client closes the connection: its pending operations end, the step is counted.
    void close()
    {
        if (closed_)
            return;
        (void)state_->step(io_step::close, id_, action_); // a failed close changes nothing
        drop();
    }

    // The client let go of the connection without closing it.
    void drop()
    {
        if (closed_)
            return;
        closed_ = true;
        ++state_->closed;
        finish(read_, asio::error::operation_aborted, 0);
        finish(write_, asio::error::operation_aborted, 0);
    }

private:
    struct pending
    {
        io_handler handler;
        asio::mutable_buffer into;
        asio::cancellation_slot slot;
    };
    struct piece
    {
        std::string bytes;
        std::size_t offset = 0;
        io_step kind = io_step::read_body;
        bool end = false; // the server closes the connection here
    };

    template <class Sequence> static asio::mutable_buffer first(const Sequence& buffers)
    {
        for (auto i = asio::buffer_sequence_begin(buffers); i != asio::buffer_sequence_end(buffers); ++i)
            if (asio::mutable_buffer b(*i); b.size() != 0)
                return b;
        return {};
    }

    // Any cancellation type ends a pending operation: nothing of it happened.
    void watch(asio::cancellation_slot& slot, std::optional<pending>& op)
    {
        if (slot.is_connected())
            slot.assign([weak = weak_from_this(), &op](asio::cancellation_type) {
                if (auto self = weak.lock(); self && op)
                {
                    op->slot = {}; // do not clear the slot from inside its own handler
                    self->finish(op, asio::error::operation_aborted, 0);
                }
            });
    }

    void finish(std::optional<pending>& op, error_code ec, std::size_t n)
    {
        if (!op)
            return;
        if (op->slot.is_connected())
            op->slot.clear();
        io_handler handler = std::move(op->handler);
        op.reset();
        asio::post(ex_, asio::append(std::move(handler), ec, n));
    }

    void write(pending op, std::string bytes)
    {
        if (const std::string action = action_in(bytes); !action.empty())
            action_ = action;
        write_.emplace(std::move(op));
        if (closed_)
            return finish(write_, asio::error::operation_aborted, 0);
        switch (state_->step(io_step::write, id_, action_))
        {
        case verdict::fail: return finish(write_, state_->fail_error, 0);
        case verdict::stall: return watch(write_->slot, write_);
        case verdict::proceed: break;
        }
        finish(write_, {}, bytes.size());
        if (peer_closed_ || (!outbound_.empty() && outbound_.back().end))
            return; // as over TCP, a write to a peer that closed succeeds, and nobody reads it
        inbound_.append(bytes);
        parse();
    }

    // Hands the requests that are complete in `inbound_` to the server.
    void parse()
    {
        while (!inbound_.empty())
        {
            if (!parser_)
            {
                parser_.emplace();
                parser_->eager(true);
                parser_->body_limit(256u << 20);
            }
            error_code ec;
            const std::size_t used = parser_->put(asio::buffer(inbound_), ec);
            inbound_.erase(0, used);
            if (ec == bhttp::error::need_more)
                return;
            REQUIRE_MESSAGE(!ec, "the client wrote a request the server cannot parse: " << ec.message());
            if (parser_->is_done())
            {
                auto req = parser_->release();
                parser_.reset();
                seen_request seen;
                seen.method = std::string(req.method_string());
                seen.target = std::string(req.target());
                seen.body = std::move(req.body());
                for (const auto& field : req)
                {
                    std::string name(field.name_string());
                    for (char& c : name)
                        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                    seen.headers[name] = std::string(field.value());
                }
                action_ = aws_action(seen);
                delivered_since_request_ = 0;
                const std::size_t index = state_->requests.size();
                state_->requests.push_back(seen);
                asio::co_spawn(ex_, answer_request(shared_from_this(), std::move(seen), index),
                               [](std::exception_ptr e) {
                                   if (e)
                                       std::rethrow_exception(e);
                               });
            }
            else if (used == 0)
                return;
        }
    }

    static asio::awaitable<void> answer_request(std::shared_ptr<memory_stream> self, seen_request req,
                                                std::size_t index)
    {
        answer a = co_await self->state_->serve(req, index);
        if (self->closed_)
            co_return;
        for (std::size_t i = 0; i < a.pieces.size(); ++i)
            self->outbound_.push_back({std::move(a.pieces[i]), 0, i == 0 ? io_step::read_header : io_step::read_body});
        if (a.close)
            self->outbound_.push_back({.end = true});
        self->serve_read();
    }

    void serve_read()
    {
        if (!read_ || stalled_)
            return;
        if (closed_)
            return finish(read_, asio::error::operation_aborted, 0);
        if (!peer_closed_ && outbound_.empty())
            return; // the server is thinking, or never answers
        const bool eof = peer_closed_ || outbound_.front().end;
        const io_step kind = !eof                            ? outbound_.front().kind
                             : delivered_since_request_ == 0 ? io_step::read_header
                                                             : io_step::read_body;
        switch (state_->step(kind, id_, action_))
        {
        case verdict::fail: return finish(read_, state_->fail_error, 0);
        case verdict::stall:
            stalled_ = true; // this read waits for a cancellation or a close; nothing else is served
            return;
        case verdict::proceed: break;
        }
        if (eof)
        {
            peer_closed_ = true;
            outbound_.clear();
            return finish(read_, asio::error::eof, 0);
        }
        piece& p = outbound_.front();
        const std::size_t n = asio::buffer_copy(read_->into, asio::buffer(p.bytes) + p.offset);
        p.offset += n;
        delivered_since_request_ += n;
        if (p.offset == p.bytes.size())
            outbound_.pop_front();
        finish(read_, {}, n);
    }

    executor_type ex_;
    std::shared_ptr<memory_transport::state> state_;
    std::size_t id_;
    std::string action_;
    std::optional<pending> read_;
    std::optional<pending> write_;
    std::string inbound_;
    std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
    std::deque<piece> outbound_;
    std::size_t delivered_since_request_ = 0;
    bool peer_closed_ = false;
    bool stalled_ = false;
    bool closed_ = false;
};

class memory_connection final : public courier::http::connection
{
public:
    explicit memory_connection(std::shared_ptr<memory_stream> s)
        : stream_(std::move(s))
    {
        buffer_.reserve(courier::http::read_buffer_reserve);
    }
    ~memory_connection() override { stream_->drop(); }

    asio::awaitable<void> exchange(const courier::http::wire_request& req, const courier::http::response_limits& limits,
                                   std::chrono::milliseconds timeout, courier::http::exchange_result& out) override
    {
        co_await courier::http::exchange(*stream_, buffer_, req, limits, timeout, out);
    }

    void close() noexcept override { stream_->close(); }

private:
    std::shared_ptr<memory_stream> stream_;
    beast::flat_buffer buffer_;
};

} // namespace

// ---- the transport ----------------------------------------------------------------------

memory_transport::memory_transport(server s)
    : state_(std::make_shared<state>())
{
    state_->serve = std::move(s);
}

memory_transport::memory_transport(simple_server s)
    : memory_transport(server(
          [s = std::move(s)](const seen_request& r, std::size_t i) -> asio::awaitable<answer> { co_return s(r, i); }))
{
}

memory_transport::~memory_transport() = default;

asio::awaitable<std::unique_ptr<courier::http::connection>> memory_transport::connect(
    asio::any_io_executor executor, const courier::http::endpoint& remote, std::chrono::milliseconds)
{
    auto s = state_;
    // As a real connect, this completes later, never inside the call.
    co_await asio::post(executor, asio::use_awaitable);
    switch (s->step(io_step::connect, s->opened + 1, {}))
    {
    case state::verdict::fail:
        throw courier::error(courier::errc::transport_failed,
                             remote.host_header + ": connect failed: " + s->fail_error.message());
    case state::verdict::stall:
    {
        asio::steady_timer never(executor, asio::steady_timer::time_point::max());
        co_await never.async_wait(asio::use_awaitable); // only a cancellation ends it
        throw boost::system::system_error(asio::error::operation_aborted);
    }
    case state::verdict::proceed: break;
    }
    const std::size_t id = ++s->opened;
    co_return std::make_unique<memory_connection>(std::make_shared<memory_stream>(executor, s, id));
}

void memory_transport::fail_step(std::size_t n, error_code ec)
{
    state_->fail_at = n;
    state_->fail_error = ec;
}

bool memory_transport::failure_happened() const
{
    return state_->fired;
}

void memory_transport::max_write(std::size_t bytes)
{
    state_->max_write = bytes;
}

const std::vector<seen_request>& memory_transport::requests() const
{
    return state_->requests;
}

const std::vector<step_record>& memory_transport::steps() const
{
    return state_->steps;
}

std::size_t memory_transport::connections_opened() const
{
    return state_->opened;
}

std::size_t memory_transport::connections_closed() const
{
    return state_->closed;
}

} // namespace courier_test
