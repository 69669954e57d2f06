// The STOMP floor of bench/compare-broker: the least a client can spend per message on this
// machine to drain a RabbitMQ queue the way courier and stomp.py do (one subscription with
// `ack:client-individual` and a prefetch, one ACK frame per message), with blocking system
// calls and nothing else: no event loop, no header decoding beyond finding the `ack` and
// `content-length` values, no JSON parse, no message objects. Each read's ACKs go out in one
// write. What courier spends above this figure is its own; the kernel's part and the
// broker's pace are in the floor too.
//
//   stomp-floor --url stomp://guest:guest@127.0.0.1:PORT/ --queue NAME --messages N [--prefetch 100]
//
// Prints one JSON line with courier-load's fields, timed like the Python peers: from the
// first message to the last ACK written.
#include <arpa/inet.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
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

namespace {

struct options
{
    std::string user = "guest", password = "guest", host = "127.0.0.1", vhost = "/", queue;
    unsigned short port = 0;
    long messages = 0;
    long prefetch = 100;
    long linger_us = 0;
};

[[noreturn]] void usage(const char* why)
{
    std::fprintf(stderr,
                 "stomp-floor: %s\nusage: stomp-floor --url stomp://USER:PASS@HOST:PORT/[VHOST] --queue NAME "
                 "--messages N [--prefetch N]\n",
                 why);
    std::exit(2);
}

// stomp://user:pass@host:port/vhost, the form the other peers take (no percent-escapes).
void parse_url(std::string_view url, options& o)
{
    constexpr std::string_view scheme = "stomp://";
    if (!url.starts_with(scheme))
        usage("the URL must start with stomp://");
    url.remove_prefix(scheme.size());
    const auto at = url.find('@');
    if (at != std::string_view::npos)
    {
        const auto credentials = url.substr(0, at);
        const auto colon = credentials.find(':');
        o.user = std::string(credentials.substr(0, colon));
        o.password = colon == std::string_view::npos ? "" : std::string(credentials.substr(colon + 1));
        url.remove_prefix(at + 1);
    }
    const auto slash = url.find('/');
    const auto authority = url.substr(0, slash);
    const auto colon = authority.rfind(':');
    if (colon == std::string_view::npos)
        usage("the URL must name a port");
    o.host = std::string(authority.substr(0, colon));
    o.port = static_cast<unsigned short>(std::stoul(std::string(authority.substr(colon + 1))));
    if (slash != std::string_view::npos && slash + 1 < url.size())
        o.vhost = std::string(url.substr(slash + 1));
}

options parse(int argc, char** argv)
{
    options o;
    for (int i = 1; i + 1 < argc; i += 2)
    {
        const std::string_view name = argv[i];
        const char* value = argv[i + 1];
        if (name == "--url")
            parse_url(value, o);
        else if (name == "--queue")
            o.queue = value;
        else if (name == "--messages")
            o.messages = std::atol(value);
        else if (name == "--prefetch")
            o.prefetch = std::atol(value);
        else if (name == "--linger-us")
            o.linger_us = std::atol(value);
        else
            usage("unknown option");
    }
    if (o.port == 0 || o.queue.empty() || o.messages <= 0 || o.prefetch <= 0)
        usage("--url, --queue and --messages are required");
    return o;
}

void write_all(int fd, std::string_view bytes)
{
    while (!bytes.empty())
    {
        const auto n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0)
            throw std::system_error(errno, std::generic_category(), "write");
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

// The value of header `name` in a header section that starts with the command line.
std::string_view header(std::string_view section, std::string_view name)
{
    for (std::size_t at = section.find('\n'); at != std::string_view::npos; at = section.find('\n', at + 1))
    {
        const auto line = section.substr(at + 1);
        if (line.size() > name.size() && line.starts_with(name) && line[name.size()] == ':')
            return line.substr(name.size() + 1, line.find('\n') - name.size() - 1);
    }
    return {};
}

struct cpu_time
{
    double user = 0, system = 0;
};

cpu_time cpu()
{
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    auto seconds = [](timeval t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
    return {seconds(u.ru_utime), seconds(u.ru_stime)};
}

} // namespace

int main(int argc, char** argv)
try
{
    const auto o = parse(argc, argv);
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(o.port);
    if (fd < 0 || ::inet_pton(AF_INET, o.host.c_str(), &address.sin_addr) != 1 ||
        ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
        throw std::system_error(errno, std::generic_category(), "connect to " + o.host);
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    write_all(fd, "CONNECT\naccept-version:1.2\nhost:" + o.vhost + "\nlogin:" + o.user + "\npasscode:" + o.password +
                      "\nheart-beat:0,0\n\n" + std::string(1, '\0'));
    write_all(fd, "SUBSCRIBE\nid:1\ndestination:/queue/" + o.queue + "\nack:client-individual\nprefetch-count:" +
                      std::to_string(o.prefetch) + "\n\n" + std::string(1, '\0'));

    std::string buffer;
    std::size_t start = 0; // first byte not yet decoded
    std::string acks;
    long received = 0;
    std::chrono::steady_clock::time_point t0;
    cpu_time c0;
    char chunk[65536];
    while (received < o.messages)
    {
        const auto n = ::read(fd, chunk, sizeof chunk);
        if (n <= 0)
            throw std::runtime_error(n == 0 ? "the broker closed the connection" : std::strerror(errno));
        buffer.append(chunk, static_cast<std::size_t>(n));
        for (;;)
        {
            while (start < buffer.size() && (buffer[start] == '\n' || buffer[start] == '\r'))
                ++start; // heart-beats, and the EOL RabbitMQ puts after each frame
            const std::string_view rest(buffer.data() + start, buffer.size() - start);
            const auto header_end = rest.find("\n\n");
            if (header_end == std::string_view::npos)
                break;
            const auto section = rest.substr(0, header_end);
            std::size_t frame_end = 0;
            if (const auto length = header(section, "content-length"); !length.empty())
            {
                frame_end = header_end + 2 + std::stoul(std::string(length));
                if (frame_end >= rest.size())
                    break;
            }
            else if (frame_end = rest.find('\0', header_end + 2); frame_end == std::string_view::npos)
                break;
            if (section.starts_with("MESSAGE\n"))
            {
                if (received++ == 0)
                {
                    t0 = std::chrono::steady_clock::now();
                    c0 = cpu();
                }
                acks += "ACK\nid:";
                acks += header(section, "ack"); // sent back escaped as it came
                acks += "\n\n";
                acks += '\0';
            }
            else if (section.starts_with("ERROR\n"))
                throw std::runtime_error("STOMP ERROR: " + std::string(rest.substr(0, frame_end)));
            start += frame_end + 1;
        }
        if (!acks.empty())
        {
            write_all(fd, acks);
            acks.clear();
        }
        buffer.erase(0, start);
        start = 0;
        if (o.linger_us > 0)
            ::usleep(static_cast<useconds_t>(o.linger_us));
    }
    const auto c1 = cpu();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ::close(fd);
    std::printf("{\"peer\":\"stomp-floor\",\"messages\":%ld,\"seconds\":%.4f,\"msgs_per_s\":%.1f,\"cpu_user_s\":%.4f,"
                "\"cpu_sys_s\":%.4f,\"cpu_us_per_msg\":%.2f,\"duplicates\":0,\"lost\":%ld,\"mode\":\"consume\","
                "\"concurrency\":%ld}\n",
                received, seconds, static_cast<double>(received) / seconds, c1.user - c0.user, c1.system - c0.system,
                (c1.user - c0.user + c1.system - c0.system) * 1e6 / static_cast<double>(received),
                o.messages - received, o.prefetch);
    return 0;
}
catch (const std::exception& e)
{
    std::fprintf(stderr, "stomp-floor: %s\n", e.what());
    return 1;
}
