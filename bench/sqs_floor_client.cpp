// The transport floor of the stub benchmark (see sqs_floor_client.hpp).
#include "sqs_floor_client.hpp"

#include <fmt/core.h>

#include <arpa/inet.h>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/resource.h>
#include <sys/socket.h>
#include <system_error>
#include <unistd.h>

namespace courier::bench {

namespace {

[[noreturn]] void fail(const char* what)
{
    throw std::system_error(errno, std::generic_category(), what);
}

double cpu_seconds()
{
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    const auto s = [](timeval t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
    return s(u.ru_utime) + s(u.ru_stime);
}

// What a signed request carries besides its body, at the sizes courier sends: the stub
// checks no signature, but the bytes on the wire should be the same.
std::string head_for(std::string_view target, unsigned short port, std::size_t body_size)
{
    return fmt::format("POST / HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/x-amz-json-1.0\r\n"
                       "X-Amz-Target: AmazonSQS.{}\r\nX-Amz-Date: 20261130T000000Z\r\n"
                       "Authorization: AWS4-HMAC-SHA256 Credential=bench/20261130/us-east-1/sqs/aws4_request, "
                       "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
                       "Signature=0000000000000000000000000000000000000000000000000000000000000000\r\n"
                       "Content-Length: {}\r\n\r\n",
                       port, target, body_size);
}

class connection
{
public:
    explicit connection(unsigned short port)
    {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0)
            fail("socket");
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
            fail("connect");
        const int one = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    ~connection() { ::close(fd_); }
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    // Writes head and body with one system call, as courier does.
    void send(std::string_view head, std::string_view body)
    {
        iovec parts[2] = {{const_cast<char*>(head.data()), head.size()}, {const_cast<char*>(body.data()), body.size()}};
        msghdr m{};
        m.msg_iov = parts;
        m.msg_iovlen = 2;
        const auto want = static_cast<ssize_t>(head.size() + body.size());
        if (::sendmsg(fd_, &m, MSG_NOSIGNAL) != want)
            fail("sendmsg");
    }

    // Reads one response; returns its body (valid until the next call).
    std::string_view receive()
    {
        std::size_t have = 0;
        std::size_t body_at = 0;
        std::size_t length = 0;
        for (;;)
        {
            if (body_at == 0)
            {
                const std::string_view seen(buffer_.data(), have);
                if (const auto end = seen.find("\r\n\r\n"); end != std::string_view::npos)
                {
                    const auto at = seen.find("Content-Length: ");
                    if (at == std::string_view::npos || at > end)
                        throw std::runtime_error("response without Content-Length");
                    std::from_chars(seen.data() + at + 16, seen.data() + end, length);
                    body_at = end + 4;
                    if (body_at + length > buffer_.size())
                        throw std::runtime_error("response larger than the buffer");
                }
            }
            if (body_at != 0 && have >= body_at + length)
                return {buffer_.data() + body_at, length};
            const auto n = ::read(fd_, buffer_.data() + have, buffer_.size() - have);
            if (n <= 0)
                fail("read");
            have += static_cast<std::size_t>(n);
        }
    }

private:
    int fd_ = -1;
    std::array<char, 256 * 1024> buffer_;
};

} // namespace

floor_result run_floor(unsigned short port, std::int64_t messages)
{
    connection c(port);
    const std::string receive_body =
        R"({"QueueUrl":"http://127.0.0.1:)" + std::to_string(port) +
        R"(/000000000000/stub","MaxNumberOfMessages":10,"WaitTimeSeconds":20,"VisibilityTimeout":30,)"
        R"("MessageSystemAttributeNames":["All"],"MessageAttributeNames":["All"]})";
    const std::string receive_head = head_for("ReceiveMessage", port, receive_body.size());
    const std::string delete_prefix =
        R"({"QueueUrl":"http://127.0.0.1:)" + std::to_string(port) + R"(/000000000000/stub","Entries":[)";
    std::string delete_body;

    floor_result r;
    const auto cpu0 = cpu_seconds();
    const auto t0 = std::chrono::steady_clock::now();
    while (r.messages < messages)
    {
        c.send(receive_head, receive_body);
        const std::string_view answer = c.receive();
        // The receipts, by a plain scan: no JSON parse, no MD5, no message objects.
        delete_body = delete_prefix;
        int entries = 0;
        constexpr std::string_view key = R"("ReceiptHandle":")";
        for (auto at = answer.find(key); at != std::string_view::npos; at = answer.find(key, at))
        {
            at += key.size();
            const auto end = answer.find('"', at);
            if (entries > 0)
                delete_body += ',';
            delete_body += R"({"Id":")";
            delete_body += static_cast<char>('0' + entries);
            delete_body += R"(","ReceiptHandle":")";
            delete_body.append(answer.substr(at, end - at));
            delete_body += R"("})";
            ++entries;
        }
        delete_body += "]}";
        if (entries == 0)
            throw std::runtime_error("the stub returned no messages");
        c.send(head_for("DeleteMessageBatch", port, delete_body.size()), delete_body);
        if (c.receive().find(R"("Failed":[])") == std::string_view::npos)
            throw std::runtime_error("a delete failed");
        r.messages += entries;
        r.requests += 2;
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.cpu_seconds = cpu_seconds() - cpu0;
    return r;
}

} // namespace courier::bench
