// The whole SQS consume path (ReceiveMessage -> handler -> DeleteMessageBatch, and
// ChangeMessageVisibilityBatch for a message the handler retries) over the HTTP client's
// in-memory transport (memory_transport.hpp), against a scripted SQS queue, on simulated
// time. Each run fails one I/O step of the walk (connect, write, read of the header, read of
// the body, close; numbered over every request) with a connection reset, or stalls it so that
// the client's own deadline ends it; the runs go on until the step number is past the walk's
// end. After every run: no message was lost and none was acknowledged twice. The whole file
// takes a fraction of a second: every wait is on the simulated clock.
#include "aws/signed_client.hpp"
#include "memory_transport.hpp"
#include "sqs/client_impl.hpp"
#include "test_support.hpp"

#include <courier/aws/credentials_provider.hpp>
#include <courier/sqs.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using courier_test::answer;
using courier_test::aws_action;
using courier_test::io_step;
using courier_test::memory_transport;
using courier_test::seen_request;

namespace {

constexpr std::string_view queue_url = "http://127.0.0.1/000000000000/walk";
const std::vector<std::string> acked_ids = {"m-1", "m-2", "m-3"};
const std::string retried_id = "m-retry";

// The string values of `"key":"..."` in `body`, in order (courier's own rendering: no spaces,
// and the test's receipts and ids need no escapes).
std::vector<std::string> strings_of(const std::string& body, const std::string& key)
{
    std::vector<std::string> out;
    const std::string marker = "\"" + key + "\":\"";
    for (auto at = body.find(marker); at != std::string::npos; at = body.find(marker, at))
    {
        at += marker.size();
        out.push_back(body.substr(at, body.find('"', at) - at));
    }
    return out;
}

std::vector<int> numbers_of(const std::string& body, const std::string& key)
{
    std::vector<int> out;
    const std::string marker = "\"" + key + "\":";
    for (auto at = body.find(marker); at != std::string::npos; at = body.find(marker, at))
    {
        at += marker.size();
        out.push_back(std::stoi(body.substr(at)));
    }
    return out;
}

// An SQS queue as the server keeps it: visibility timeouts on the simulated clock, long polls,
// a receipt per delivery ("<id>#<delivery>"), and what every batch entry asked for.
class scripted_queue
{
public:
    struct message_state
    {
        std::string id;
        int deliveries = 0;
        courier::clock::time_point visible_at{};
        bool deleted = false;
    };

    explicit scripted_queue(std::shared_ptr<courier::testing::simulated_clock> clock)
        : clock_(std::move(clock))
    {
        for (const auto& id : acked_ids)
            messages_.push_back({.id = id});
        messages_.push_back({.id = retried_id});
    }

    asio::awaitable<answer> serve(const seen_request& r)
    {
        const std::string action = aws_action(r);
        if (action == "ReceiveMessage")
            co_return answer::http(200, co_await receive(r.body));
        if (action == "GetQueueAttributes")
            co_return answer::http(200, std::string(courier_test::sqs_queue_attributes));
        std::string successful;
        const auto ids = strings_of(r.body, "Id");
        const auto receipts = strings_of(r.body, "ReceiptHandle");
        REQUIRE(ids.size() == receipts.size());
        const auto timeouts = numbers_of(r.body, "VisibilityTimeout");
        for (std::size_t i = 0; i < ids.size(); ++i)
        {
            message_state& m = by_receipt(receipts[i]);
            if (action == "DeleteMessageBatch")
            {
                deletes.push_back(receipts[i]);
                m.deleted = true;
            }
            else
            {
                REQUIRE(action == "ChangeMessageVisibilityBatch");
                visibility_changes.emplace_back(receipts[i], timeouts.at(i));
                m.visible_at = clock_->now() + std::chrono::seconds(timeouts.at(i));
            }
            successful += (successful.empty() ? "" : ",") + std::string(R"({"Id":")") + ids[i] + "\"}";
        }
        // Deletes close the connection after their answer, so that the client's close of a
        // connection is a step of the walk too.
        co_return answer::http(200, R"({"Successful":[)" + successful + R"(],"Failed":[]})",
                               action != "DeleteMessageBatch");
    }

    const std::vector<message_state>& messages() const { return messages_; }
    bool settled() const
    {
        const bool all_deleted = std::all_of(messages_.begin(), messages_.end(),
                                             [](const message_state& m) { return m.deleted || m.id == retried_id; });
        const bool retried = std::any_of(visibility_changes.begin(), visibility_changes.end(),
                                         [](const auto& change) { return change.second == 60; });
        return all_deleted && retried;
    }

    std::vector<std::string> deletes;                            // every entry's receipt
    std::vector<std::pair<std::string, int>> visibility_changes; // receipt, seconds

private:
    // Long polling: waits (on the simulated clock) up to the request's wait time for a
    // message to be visible.
    asio::awaitable<std::string> receive(const std::string& body)
    {
        const auto deadline = clock_->now() + std::chrono::seconds(numbers_of(body, "WaitTimeSeconds").at(0));
        const auto max = static_cast<std::size_t>(numbers_of(body, "MaxNumberOfMessages").at(0));
        const auto asked = numbers_of(body, "VisibilityTimeout");
        const auto hidden_for = std::chrono::seconds(asked.empty() ? 30 : asked.at(0)); // the queue's own
        for (;;)
        {
            std::string out;
            std::size_t count = 0;
            auto next_visible = deadline;
            for (auto& m : messages_)
            {
                if (m.deleted)
                    continue;
                if (m.visible_at > clock_->now())
                {
                    next_visible = std::min(next_visible, m.visible_at);
                    continue;
                }
                if (count == max)
                    break;
                m.visible_at = clock_->now() + hidden_for;
                const std::string delivery = std::to_string(++m.deliveries);
                out += std::string(count++ == 0 ? "" : ",") + R"({"MessageId":")" + m.id + R"(","ReceiptHandle":")" +
                       m.id + "#" + delivery + R"(","Body":"{}","Attributes":{"ApproximateReceiveCount":")" + delivery +
                       "\"}}";
            }
            if (count > 0 || clock_->now() >= deadline)
                co_return R"({"Messages":[)" + out + "]}";
            co_await clock_->sleep_until(next_visible);
        }
    }

    message_state& by_receipt(const std::string& receipt)
    {
        const std::string id = receipt.substr(0, receipt.find('#'));
        const auto it = std::find_if(messages_.begin(), messages_.end(), [&](const auto& m) { return m.id == id; });
        REQUIRE_MESSAGE(it != messages_.end(), "a receipt the queue never gave out: " << receipt);
        return *it;
    }

    std::shared_ptr<courier::testing::simulated_clock> clock_;
    std::vector<message_state> messages_;
};

struct walk_result
{
    bool failure_happened = false;
    courier_test::step_record failed{};
    std::vector<courier_test::step_record> steps;
};

// Consumes the scripted queue through a route until it is settled (or an hour of simulated
// time passed), with step `fail_at` of the transport failing with `error` (or stalling when
// `error` is empty); then checks that nothing was lost or acknowledged twice. With
// `attempts` = 1 every failure reaches the provider and the route; with more, the AWS
// client retries first (without a pause: its retry pause is still a real timer).
walk_result walk(std::size_t fail_at, boost::system::error_code error, unsigned attempts = 1)
{
    courier_test::simulated_fixture f;
    scripted_queue queue(f.clock);
    auto transport = std::make_shared<memory_transport>(
        memory_transport::server([&](const seen_request& r, std::size_t) { return queue.serve(r); }));
    transport->fail_step(fail_at, error);

    courier::sqs_client_options options;
    options.verify_md5 = false;
    options.aws.endpoint = "http://127.0.0.1:9";
    options.aws.region = "us-east-1";
    options.aws.credentials = courier::aws::static_credentials({.access_key_id = "AKIDWALK", .secret_access_key = "s"});
    options.aws.max_attempts = attempts;
    options.aws.retry_base_delay = options.aws.throttling_retry_base_delay = options.aws.max_retry_delay = 0ms;
    options.aws.request_timeout = 5s;
    options.aws.log = courier::logger(courier::log_level::off);
    auto sqs = std::make_shared<courier::sqs_client>(f.io.get_executor(), options);
    // The SQS client's HTTP client, rebuilt over the in-memory transport and the simulated
    // clock (its connect and request deadlines then run in simulated time).
    courier::http::client& http = sqs->internals().aws.http();
    courier::http::client_options http_options = http.options();
    http_options.transport = transport;
    http_options.clock = f.clock;
    http = courier::http::client(http.get_executor(), http.remote(), std::move(http_options));

    std::vector<std::string> handled_receipts; // deliveries whose handler succeeded
    std::vector<courier::route> routes;
    // batch_window 0: the SQS batcher's window is still a real timer; at 0 it costs no time.
    courier::sqs_queue_options queue_options{
        .queue_url = std::string(queue_url), .wait_time = 20s, .visibility_timeout = 30s, .batch_window = 0ms};
    routes.emplace_back("walk", courier::make_sqs_provider(sqs, std::move(queue_options)),
                        [&](const courier::message& m) -> asio::awaitable<void> {
                            if (m.id == retried_id)
                                throw courier::retry_message(60s);
                            handled_receipts.push_back(m.receipt);
                            co_return;
                        });
    // A stop waits for the long poll in flight; with a stalled or retried poll that takes up
    // to three request deadlines (90 s simulated): the stop must still be graceful.
    courier::dispatcher d(
        f.io.get_executor(), std::move(routes),
        {.shutdown_deadline = 10min, .clock = f.clock, .log = f.logs.make(courier::log_level::warning)});
    bool settled = false;
    asio::co_spawn(
        f.io,
        [&]() -> asio::awaitable<void> {
            for (int second = 0; second < 3600 && !(settled = queue.settled()); ++second)
                co_await f.clock->sleep_for(1s);
            d.stop();
        },
        asio::detached);
    const auto stopped = courier_test::run_simulated(f.io, *f.clock, [&] { return d.run(); });
    const std::uint64_t confirmed_acks = d.routes().at(0).stats().acked;

    walk_result result;
    result.failure_happened = transport->failure_happened();
    result.steps = transport->steps();
    if (result.failure_happened)
        result.failed = *std::find_if(result.steps.begin(), result.steps.end(), [](const auto& s) { return s.failed; });
    INFO("step " << fail_at << " (" << to_string(result.failed.kind) << " of " << result.failed.action << ", "
                 << (error ? error.message() : std::string("stalled")) << ")");
    CHECK(stopped == courier::stop_kind::graceful);

    // Nothing lost: the handled messages are deleted, the retried one is still in the queue,
    // and no delivery was deleted that its handler did not finish.
    REQUIRE(settled);
    for (const auto& m : queue.messages())
        CHECK_MESSAGE(m.deleted == (m.id != retried_id), m.id);
    const std::set<std::string> handled(handled_receipts.begin(), handled_receipts.end());
    CHECK_MESSAGE(handled.size() == handled_receipts.size(), "a delivery was handled twice");
    for (const auto& receipt : queue.deletes)
        CHECK_MESSAGE(handled.count(receipt) == 1, "deleted unhandled: " << receipt);
    for (const auto& [receipt, seconds] : queue.visibility_changes)
    {
        CHECK_MESSAGE(receipt.rfind(retried_id + "#", 0) == 0, "visibility changed: " << receipt);
        CHECK((seconds == 60 || seconds == 0));
    }

    // Nothing acknowledged twice: one delivery of each message was deleted, and one delete
    // entry reached the queue twice only when the answer to the first was the failed step
    // (the server deleted, the client never learnt it, and acked again).
    std::map<std::string, std::set<std::string>> deleted_deliveries;
    std::map<std::string, int> deletes_per_receipt;
    for (const auto& receipt : queue.deletes)
    {
        deleted_deliveries[receipt.substr(0, receipt.find('#'))].insert(receipt);
        ++deletes_per_receipt[receipt];
    }
    for (const auto& [id, receipts] : deleted_deliveries)
        CHECK_MESSAGE(receipts.size() == 1, id << " deleted in " << receipts.size() << " deliveries");
    const bool lost_delete_answer =
        result.failure_happened && result.failed.action == "DeleteMessageBatch" &&
        (result.failed.kind == io_step::read_header || result.failed.kind == io_step::read_body);
    for (const auto& [receipt, count] : deletes_per_receipt)
        CHECK_MESSAGE(count <= (lost_delete_answer ? 2 : 1), receipt << " deleted " << count << " times");
    // The route counted an ack only for a deletion that happened, once per message; it missed
    // one only when the answer that confirmed it was lost.
    const auto deleted = static_cast<std::uint64_t>(deleted_deliveries.size());
    CHECK(confirmed_acks <= deleted);
    if (!lost_delete_answer)
        CHECK(confirmed_acks == deleted);
    return result;
}

// Fails every step in turn with `error` (or stalls it); returns the (action, step) pairs failed.
std::set<std::pair<std::string, io_step>> fail_every_step(boost::system::error_code error, unsigned attempts = 1)
{
    std::set<std::pair<std::string, io_step>> failed;
    for (std::size_t step = 1;; ++step)
    {
        REQUIRE(step < 500); // the walk has far fewer steps: the loop would not end
        const walk_result r = walk(step, error, attempts);
        if (!r.failure_happened)
            break;
        failed.emplace(r.failed.action, r.failed.kind);
    }
    return failed;
}

void check_coverage(const std::set<std::pair<std::string, io_step>>& failed)
{
    for (const char* action : {"ReceiveMessage", "DeleteMessageBatch", "ChangeMessageVisibilityBatch"})
        for (io_step kind : {io_step::write, io_step::read_header, io_step::read_body})
            CHECK_MESSAGE(failed.count({action, kind}) == 1, action << ": " << to_string(kind) << " never failed");
    const auto failed_kind = [&](io_step kind) {
        return std::any_of(failed.begin(), failed.end(), [&](const auto& f) { return f.second == kind; });
    };
    CHECK(failed_kind(io_step::connect));
    CHECK(failed_kind(io_step::close));
}

} // namespace

TEST_CASE("sqs walk: a clean run settles every message, and its steps cover every request")
{
    const walk_result r = walk(0, {});
    CHECK_FALSE(r.failure_happened);
    std::set<std::pair<std::string, io_step>> seen;
    for (const auto& s : r.steps)
        seen.emplace(s.action, s.kind);
    CHECK(seen.count({"DeleteMessageBatch", io_step::close}) == 1);
    CHECK(seen.count({"ChangeMessageVisibilityBatch", io_step::read_body}) == 1);
}

TEST_CASE("sqs walk: a connection reset at any step loses no message and acks none twice")
{
    check_coverage(fail_every_step(boost::asio::error::connection_reset));
}

TEST_CASE("sqs walk: a step that never completes ends in the client's deadline, on simulated time")
{
    check_coverage(fail_every_step({}));
}

TEST_CASE("sqs walk: with the AWS client's own retries, a lost answer is asked again and still acked once")
{
    check_coverage(fail_every_step(boost::asio::error::connection_reset, 3));
    check_coverage(fail_every_step({}, 3));
}
