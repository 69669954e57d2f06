// sqs_stub_server: the smallest SQS server that a consumer can drain at full speed, so
// that a benchmark measures the client and not the server (fauxqs spends 40-47 µs of CPU
// per message, more than the client we want to measure).
//
// Loopback only, HTTP/1.1 keep-alive, AWS JSON 1.0 protocol (`X-Amz-Target`). Answers
//   AmazonSQS.ReceiveMessage                  MaxNumberOfMessages (1-10) messages built once at
//                                             start-up: 256-byte JSON bodies {"seq":N,"pad":"xx…"}
//                                             with their real MD5OfBody; only a 16-digit
//                                             counter in MessageId and ReceiptHandle changes
//                                             per message, so every delivery is distinct;
//   AmazonSQS.DeleteMessageBatch,
//   AmazonSQS.ChangeMessageVisibilityBatch    all entries successful (their Ids echoed);
//   AmazonSQS.GetQueueAttributes              a visibility timeout of 30 s (a consumer's check);
//   anything else                             400 UnsupportedOperation.
// Signatures are not checked and no message is ever redelivered: it is a load source, not
// an emulator. Per request it does one read, a header scan and one write.
//
//   sqs_stub_server [--port P] [--body-bytes B] [--max-seconds S]
//
// Prints "listening <port> <pid>" once bound (port 0 = any free port), then runs until
// SIGINT/SIGTERM, stdin closing (with --exit-on-stdin-eof), or --max-seconds (default 900),
// and prints its counters as one JSON line on stderr.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <fmt/core.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

constexpr std::size_t max_messages = 10;
constexpr std::size_t counter_digits = 16;
constexpr std::size_t max_request_bytes = 1 << 20;

struct counters
{
    std::uint64_t connections = 0;
    std::uint64_t requests = 0;
    std::uint64_t receives = 0;
    std::uint64_t messages = 0;
    std::uint64_t deletes = 0;    // entries
    std::uint64_t visibility = 0; // entries
    std::uint64_t unsupported = 0;
};

std::string md5_hex(std::string_view data)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (EVP_Digest(data.data(), data.size(), digest, &size, EVP_md5(), nullptr) != 1)
        throw std::runtime_error("EVP_Digest(md5) failed");
    std::string hex;
    for (unsigned i = 0; i < size; ++i)
        hex += fmt::format("{:02x}", digest[i]);
    return hex;
}

// One message of a ReceiveMessage answer, JSON-escaped already (the bodies need no
// escaping), with the offsets of the two counters to overwrite.
struct message_template
{
    std::string json;
    std::size_t id_at = 0;
    std::size_t receipt_at = 0;
};

std::vector<message_template> build_messages(std::size_t body_bytes)
{
    std::vector<message_template> out;
    const std::string zeros(counter_digits, '0');
    for (std::size_t seq = 0; seq < max_messages; ++seq)
    {
        auto body = fmt::format(R"({{"seq":{},"pad":")", seq);
        const std::size_t minimal = body.size() + 2;
        body.append(body_bytes > minimal ? body_bytes - minimal : 0, 'x');
        body += "\"}";
        // The body is inside a JSON string: escape its quotes.
        std::string escaped;
        for (const char c : body)
        {
            if (c == '"' || c == '\\')
                escaped += '\\';
            escaped += c;
        }
        message_template m;
        m.json = R"({"MessageId":"5fea7756-0ea4-451a-a703-)";
        m.id_at = m.json.size();
        m.json += zeros.substr(0, 12); // the id's last group is 12 hex digits...
        m.json += R"(","ReceiptHandle":"stub-receipt-)";
        m.receipt_at = m.json.size();
        m.json += zeros;
        m.json += R"(","MD5OfBody":")" + md5_hex(body) + R"(","Body":")" + escaped +
                  R"(","Attributes":{"ApproximateReceiveCount":"1","SentTimestamp":"1764072000000"}})";
        out.push_back(std::move(m));
    }
    return out;
}

// The value of header `name` (lower case) in `head`, case-insensitively; empty if absent.
std::string_view header(std::string_view head, std::string_view name)
{
    std::size_t pos = head.find("\r\n");
    while (pos != std::string_view::npos && pos + 2 < head.size())
    {
        const auto line_start = pos + 2;
        const auto line_end = std::min(head.find("\r\n", line_start), head.size());
        const auto line = head.substr(line_start, line_end - line_start);
        const auto colon = line.find(':');
        if (colon == name.size() && std::equal(name.begin(), name.end(), line.begin(), [](char a, char b) {
                return a == (b >= 'A' && b <= 'Z' ? b - 'A' + 'a' : b);
            }))
        {
            auto value = line.substr(colon + 1);
            while (!value.empty() && value.front() == ' ')
                value.remove_prefix(1);
            return value;
        }
        pos = line_end;
    }
    return {};
}

void write_counter(std::string& out, std::size_t at, std::size_t digits, std::uint64_t value)
{
    for (std::size_t i = 0; i < digits; ++i, value /= 10)
        out[at + digits - 1 - i] = static_cast<char>('0' + value % 10);
}

class stub
{
public:
    explicit stub(std::size_t body_bytes)
        : messages_(build_messages(body_bytes))
    {
    }

    // Appends the whole HTTP response for one request to `out`.
    void answer(std::string_view head, std::string_view body, std::string& out)
    {
        ++stats_.requests;
        const auto target = header(head, "x-amz-target");
        std::string& payload = payload_;
        payload.clear();
        int status = 200;
        if (target == "AmazonSQS.ReceiveMessage")
        {
            std::size_t n = max_messages;
            if (const auto at = body.find("\"MaxNumberOfMessages\":"); at != std::string_view::npos)
            {
                auto digits = body.substr(at + 22);
                while (!digits.empty() && digits.front() == ' ')
                    digits.remove_prefix(1);
                std::size_t v = 0;
                if (std::from_chars(digits.data(), digits.data() + digits.size(), v).ec == std::errc{})
                    n = std::clamp<std::size_t>(v, 1, max_messages);
            }
            ++stats_.receives;
            payload += R"({"Messages":[)";
            for (std::size_t i = 0; i < n; ++i)
            {
                auto& m = messages_[i];
                const auto serial = ++stats_.messages;
                write_counter(m.json, m.id_at, 12, serial);
                write_counter(m.json, m.receipt_at, counter_digits, serial);
                if (i > 0)
                    payload += ',';
                payload += m.json;
            }
            payload += "]}";
        }
        else if (target == "AmazonSQS.DeleteMessageBatch" || target == "AmazonSQS.ChangeMessageVisibilityBatch")
        {
            auto& count = target == "AmazonSQS.DeleteMessageBatch" ? stats_.deletes : stats_.visibility;
            payload += R"({"Successful":[)";
            bool first = true;
            for (auto at = body.find("\"Id\":\""); at != std::string_view::npos; at = body.find("\"Id\":\"", at))
            {
                at += 6;
                const auto end = body.find('"', at);
                if (end == std::string_view::npos)
                    break;
                if (!first)
                    payload += ',';
                first = false;
                payload += R"({"Id":")";
                payload += body.substr(at, end - at);
                payload += "\"}";
                ++count;
            }
            payload += R"(],"Failed":[]})";
        }
        else if (target == "AmazonSQS.GetQueueAttributes")
            // What a consumer checks when it starts.
            payload = R"({"Attributes":{"VisibilityTimeout":"30"}})";
        else
        {
            ++stats_.unsupported;
            status = 400;
            payload = fmt::format(R"({{"__type":"com.amazonaws.sqs#UnsupportedOperation","message":"the stub )"
                                  R"(does not implement {}"}})",
                                  target.empty() ? "this request" : target);
        }
        out += status == 200 ? "HTTP/1.1 200 OK\r\n" : "HTTP/1.1 400 Bad Request\r\n";
        out += "Content-Type: application/x-amz-json-1.0\r\nx-amzn-RequestId: stub\r\nContent-Length: ";
        char digits[24];
        out.append(digits, std::to_chars(digits, digits + sizeof digits, payload.size()).ptr);
        out += "\r\n\r\n";
        out += payload;
    }

    const counters& stats() const { return stats_; }
    counters& stats() { return stats_; }

private:
    std::vector<message_template> messages_;
    std::string payload_;
    counters stats_;
};

asio::awaitable<void> session(tcp::socket socket, stub& s)
{
    socket.set_option(tcp::no_delay(true));
    std::string in;
    std::string out;
    std::array<char, 64 * 1024> chunk;
    for (;;)
    {
        // Answer every complete request in the buffer, then write them in one go.
        out.clear();
        std::size_t used = 0;
        for (;;)
        {
            const std::string_view rest = std::string_view(in).substr(used);
            const auto end_of_head = rest.find("\r\n\r\n");
            if (end_of_head == std::string_view::npos)
                break;
            const auto head = rest.substr(0, end_of_head);
            std::size_t length = 0;
            const auto cl = header(head, "content-length");
            std::from_chars(cl.data(), cl.data() + cl.size(), length);
            if (rest.size() < end_of_head + 4 + length)
                break;
            s.answer(head, rest.substr(end_of_head + 4, length), out);
            used += end_of_head + 4 + length;
        }
        in.erase(0, used);
        if (!out.empty())
        {
            auto [ec, n] = co_await asio::async_write(socket, asio::buffer(out), nothrow);
            if (ec)
                co_return;
        }
        if (in.size() > max_request_bytes)
            co_return; // not a client we serve
        auto [ec, n] = co_await socket.async_read_some(asio::buffer(chunk), nothrow);
        if (ec)
            co_return; // EOF or reset: the client went away
        in.append(chunk.data(), n);
    }
}

asio::awaitable<void> serve(tcp::acceptor& acceptor, stub& s)
{
    for (;;)
    {
        auto [ec, socket] = co_await acceptor.async_accept(nothrow);
        if (ec == asio::error::operation_aborted)
            co_return;
        if (ec)
            continue;
        ++s.stats().connections;
        asio::co_spawn(acceptor.get_executor(), session(std::move(socket), s), asio::detached);
    }
}

} // namespace

int main(int argc, char** argv)
{
    try
    {
        unsigned short port = 0;
        std::size_t body_bytes = 256;
        long max_seconds = 900;
        bool exit_on_stdin_eof = false;
        for (int i = 1; i < argc; ++i)
        {
            const std::string_view arg = argv[i];
            const auto value = [&]() -> std::string_view {
                if (i + 1 >= argc)
                    throw std::invalid_argument(fmt::format("{} needs a value", arg));
                return argv[++i];
            };
            if (arg == "--port")
                port = static_cast<unsigned short>(std::stoul(std::string(value())));
            else if (arg == "--body-bytes")
                body_bytes = std::stoul(std::string(value()));
            else if (arg == "--max-seconds")
                max_seconds = std::stol(std::string(value()));
            else if (arg == "--exit-on-stdin-eof")
                exit_on_stdin_eof = true;
            else
                throw std::invalid_argument(
                    fmt::format("unknown argument '{}'\nusage: sqs_stub_server [--port P] [--body-bytes B] "
                                "[--max-seconds S] [--exit-on-stdin-eof]",
                                arg));
        }

        asio::io_context io(1);
        stub s(body_bytes);
        tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
        fmt::print("listening {} {}\n", acceptor.local_endpoint().port(), ::getpid());
        std::fflush(stdout);

        asio::signal_set signals(io, SIGINT, SIGTERM);
        asio::steady_timer deadline(io, std::chrono::seconds(max_seconds));
        const auto stop = [&] { io.stop(); };
        signals.async_wait([&](auto, int) { stop(); });
        deadline.async_wait([&](auto ec) {
            if (!ec)
                stop();
        });
        // The parent holding our stdin pipe: when it dies, so do we.
        asio::posix::stream_descriptor in(io, ::dup(STDIN_FILENO));
        std::array<char, 256> sink;
        std::function<void(boost::system::error_code, std::size_t)> on_stdin;
        on_stdin = [&](boost::system::error_code ec, std::size_t) {
            if (ec)
                return stop();
            in.async_read_some(asio::buffer(sink), on_stdin);
        };
        if (exit_on_stdin_eof)
            in.async_read_some(asio::buffer(sink), on_stdin);

        asio::co_spawn(io, serve(acceptor, s), asio::detached);
        io.run();
        const auto& c = s.stats();
        fmt::print(stderr,
                   "{{\"stub\":\"sqs\",\"connections\":{},\"requests\":{},\"receives\":{},\"messages\":{},"
                   "\"delete_entries\":{},\"visibility_entries\":{},\"unsupported\":{}}}\n",
                   c.connections, c.requests, c.receives, c.messages, c.deletes, c.visibility, c.unsupported);
        return 0;
    }
    catch (const std::exception& e)
    {
        fmt::print(stderr, "sqs_stub_server: {}\n", e.what());
        return 2;
    }
}
