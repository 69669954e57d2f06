// The choreographer example as deployed: the binary against fauxqs, with an input queue whose
// redrive policy has a dead-letter queue, two output queues, and a mix of the four event kinds
// with malformed ones. Every output body and attribute is read back; nothing is lost or sent
// twice; the poison is in the dead-letter queue; SIGTERM ends it with status 0 and a table.
#include "child_process.hpp"
#include "sqs_fixture.hpp"

#include <map>
#include <set>
#include <signal.h>
#include <thread>
#include <unistd.h>

using namespace courier_test;
using namespace std::chrono_literals;

#ifndef COURIER_CHOREOGRAPHER
#define COURIER_CHOREOGRAPHER ""
#endif

namespace {

courier::outgoing_message event(std::string name, std::string data)
{
    return {.body = R"({"event_name":")" + name + R"(","data":)" + data + "}"};
}

struct output
{
    std::string body;
    std::string event_name;
    std::string source;
    std::string action;
};

} // namespace

TEST_CASE_FIXTURE(sqs_fixture, "choreographer: events in, transformed outputs on two queues, poison in the "
                               "dead-letter queue, SIGTERM prints the table and exits 0")
{
    const std::string binary = COURIER_CHOREOGRAPHER;
    if (binary.empty())
    {
        MESSAGE("skipped: the examples are not built (-Dexamples=false)");
        return;
    }
    REQUIRE_MESSAGE(::access(binary.c_str(), X_OK) == 0, "the choreographer example is not built: " << binary);

    const auto dlq = create_queue("choreo-dead");
    const auto input = create_queue(
        "choreo-in", {{"VisibilityTimeout", "1"},
                      {"RedrivePolicy", fmt::format(R"({{"deadLetterTargetArn":"{}","maxReceiveCount":"2"}})",
                                                    attributes(dlq).at("QueueArn"))}});
    const auto crm = create_queue("choreo-crm");
    const auto mail = create_queue("choreo-mail");

    const std::vector<courier::outgoing_message> events = {
        event("lead.created", R"({"id":"L1","email":"a@example.com","name":"Ada"})"),
        event("lead.created", R"({"id":"L2","email":"b@example.com","name":"Bo"})"),
        event("lead.updated", R"({"id":"L1","email":"ada@example.com"})"),
        event("lead.deleted", R"({"id":"L2"})"),
        event("lead.created", R"({"id":"L3","email":"c@example.com","name":"Cy"})"),
        event("lead.exploded", R"({"id":"L4"})"),            // unknown: dead-lettered
        event("lead.created", R"({"id":"L5","name":"Di"})"), // no email: dead-lettered
        {.body = "not json at all"},                         // dead-lettered
        event("lead.updated", R"({"id":"L3","email":"cy@example.com"})"),
        event("lead.deleted", R"({"id":"L1"})"),
    };
    const auto ids = run(
        [&]() -> asio::awaitable<std::vector<std::string>> { co_return co_await client->send_batch(input, events); });
    REQUIRE(ids.size() == events.size());

    child choreographer({binary, "--input-queue-url", input, "--queue", "crm=" + crm, "--queue", "mail=" + mail,
                         "--endpoint", shared_server().endpoint(), "--region", "us-east-1", "--concurrency", "4",
                         "--wait-time", "1"},
                        "choreographer-test.out", "choreographer-test.err",
                        {{"AWS_ACCESS_KEY_ID", "AKIDCOURIERTEST"},
                         {"AWS_SECRET_ACCESS_KEY", "courier-test-secret"},
                         {"AWS_SESSION_TOKEN", ""}});

    // Until the outputs are all there and the poison has moved (about two visibility timeouts).
    bool exited_early = false;
    const auto deadline = std::chrono::steady_clock::now() + 90s;
    while (std::chrono::steady_clock::now() < deadline)
    {
        if (choreographer.ended())
        {
            exited_early = true;
            break;
        }
        if (remaining(crm) == 5 && remaining(mail) == 3 && remaining(dlq) == 3 && remaining(input) == 0)
            break;
        std::this_thread::sleep_for(200ms);
    }
    if (!exited_early)
        REQUIRE_MESSAGE(choreographer.stop(SIGTERM, 30s), "no exit after SIGTERM");
    const std::string logged = choreographer.err();
    INFO("stderr:\n" << logged);
    REQUIRE_FALSE(exited_early);
    CHECK(choreographer.status() == "exited with status 0");

    // Read every output back.
    const auto drain = [&](const std::string& url) {
        std::vector<output> got;
        auto source = courier::make_sqs_provider(client, queue_options(url));
        run([&]() -> asio::awaitable<void> {
            for (int round = 0; round < 5; ++round)
                for (auto& m : co_await source->receive(10))
                {
                    got.push_back({m.body, m.attributes["event_name"].value, m.attributes["source_message_id"].value,
                                   m.attributes["action"].value});
                    co_await source->ack(m);
                }
            co_await source->close();
        });
        return got;
    };
    const auto crm_out = drain(crm);
    const auto mail_out = drain(mail);

    std::map<std::pair<std::string, std::string>, output> by_source_and_action;
    for (const auto& list : {crm_out, mail_out})
        for (const auto& o : list)
        {
            const bool first = by_source_and_action.emplace(std::pair(o.source, o.action), o).second;
            CHECK_MESSAGE(first, "sent twice: " << o.source << " " << o.action);
        }
    CHECK(crm_out.size() == 5);
    CHECK(mail_out.size() == 3);
    const std::map<std::pair<std::string, std::string>, std::pair<std::string, std::string>> expected = {
        {{ids[0], "crm.upsert"}, {"lead.created", R"({"lead_id":"L1","email":"a@example.com"})"}},
        {{ids[0], "mail.welcome"}, {"lead.created", R"({"to":"a@example.com","template":"welcome","name":"Ada"})"}},
        {{ids[1], "crm.upsert"}, {"lead.created", R"({"lead_id":"L2","email":"b@example.com"})"}},
        {{ids[1], "mail.welcome"}, {"lead.created", R"({"to":"b@example.com","template":"welcome","name":"Bo"})"}},
        {{ids[2], "crm.update"}, {"lead.updated", R"({"lead_id":"L1","email":"ada@example.com"})"}},
        {{ids[4], "crm.upsert"}, {"lead.created", R"({"lead_id":"L3","email":"c@example.com"})"}},
        {{ids[4], "mail.welcome"}, {"lead.created", R"({"to":"c@example.com","template":"welcome","name":"Cy"})"}},
        {{ids[8], "crm.update"}, {"lead.updated", R"({"lead_id":"L3","email":"cy@example.com"})"}},
    };
    CHECK(by_source_and_action.size() == expected.size());
    for (const auto& [key, want] : expected)
    {
        CAPTURE(key.first);
        CAPTURE(key.second);
        const auto it = by_source_and_action.find(key);
        REQUIRE(it != by_source_and_action.end());
        CHECK(it->second.event_name == want.first);
        CHECK(it->second.body == want.second);
    }
    for (const auto& o : crm_out)
        CHECK(o.action.starts_with("crm."));
    for (const auto& o : mail_out)
        CHECK(o.action == "mail.welcome");

    // The poison, byte for byte, in the dead-letter queue.
    std::multiset<std::string> dead;
    for (const auto& o : drain(dlq))
        dead.insert(o.body);
    CHECK(dead == std::multiset<std::string>{events[5].body, events[6].body, events[7].body});

    // The log names every step with the input message id; the table counts what each action did.
    CHECK(logged.find("id=" + ids[0] + " received (delivery 1)") != std::string::npos);
    CHECK(logged.find("event 'lead.created' dispatched to subscribers: choreography, actions") != std::string::npos);
    CHECK(logged.find("event 'lead.created' has actions: crm.upsert (10) -> crm, mail.welcome (20) -> mail") !=
          std::string::npos);
    CHECK(logged.find("action 'mail.welcome' sent to queue 'mail' as message") != std::string::npos);
    CHECK(logged.find("event 'lead.deleted' has no actions") != std::string::npos);
    CHECK(logged.find("no listener knows event 'lead.exploded'") != std::string::npos);
    CHECK(logged.find("$.data.email") != std::string::npos);
    CHECK(logged.find("acknowledged") != std::string::npos);
    const std::string table = choreographer.out();
    INFO("stdout:\n" << table);
    CHECK(table.find("event") == 0);
    CHECK(table.find("lead.created   crm.upsert         10  crm           3         0       0           0") !=
          std::string::npos);
    CHECK(table.find("lead.updated   crm.update         10  crm           2") != std::string::npos);
}
