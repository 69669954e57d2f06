// Choreography on the memory queue under simulated time: actions in weight order with ties in
// registration order, transforms that decline, a failing action and its retry, output queue
// names checked at registration, the attributes and FIFO deduplication ids of outputs.
#include "test_support.hpp"

#include <courier/events.hpp>

#include <algorithm>
#include <stdexcept>

using namespace courier_test;

namespace {

using fixture = dispatcher_fixture;

struct lead_created
{
    static constexpr courier::event_options courier_event{.name = "lead.created"};
    std::string id;
    std::string email;
    std::string name;
};
BOOST_DESCRIBE_STRUCT(lead_created, (), (id, email, name))

struct lead_deleted
{
    static constexpr courier::event_options courier_event{.name = "lead.deleted"};
    std::string id;
};
BOOST_DESCRIBE_STRUCT(lead_deleted, (), (id))

struct crm_lead
{
    std::string lead_id;
    std::string email;
};
BOOST_DESCRIBE_STRUCT(crm_lead, (), (lead_id, email))

// An output queue that records what it was sent, names its messages "<queue>-<n>", and can
// be told to fail its next sends.
class recording_output final : public courier::publisher
{
public:
    explicit recording_output(std::string name, std::vector<std::string>* order = nullptr)
        : name_(std::move(name)),
          order_(order)
    {
    }

    boost::asio::awaitable<std::string> publish(courier::outgoing_message msg) override
    {
        if (failures_left > 0)
        {
            --failures_left;
            throw std::runtime_error(name_ + " is unavailable");
        }
        sent.push_back(msg);
        if (order_)
            order_->push_back(name_ + ":" + msg.attributes.at("action").value);
        co_return name_ + "-" + std::to_string(sent.size());
    }

    std::vector<courier::outgoing_message> sent;
    int failures_left = 0;

private:
    std::string name_;
    std::vector<std::string>* order_;
};

std::string body_of(std::string event, std::string data)
{
    return R"({"event_name":")" + event + R"(","data":)" + data + "}";
}

const std::string ada = R"({"id":"L1","email":"a@example.com","name":"Ada"})";

} // namespace

TEST_CASE_FIXTURE(fixture, "choreography: actions run in ascending weight, ties in registration order; every output "
                           "carries event_name, source_message_id and action")
{
    auto input = queue();
    input->send(body_of("lead.created", ada));
    std::vector<std::string> order;
    auto crm = std::make_shared<recording_output>("crm", &order);
    auto mail = std::make_shared<recording_output>("mail", &order);
    courier::output_queues outputs;
    outputs.add("crm", crm).add("mail", mail);
    courier::choreography choreo(outputs);
    const auto to_crm = [](const lead_created& lead) { return crm_lead{lead.id, lead.email}; };
    choreo.action<lead_created>({.name = "late", .weight = 20, .queue = "mail"}, to_crm)
        .action<lead_created>({.name = "first", .weight = 10, .queue = "crm"}, to_crm)
        .action<lead_created>({.name = "second", .weight = 10, .queue = "mail"}, to_crm)
        .action<lead_created>({.name = "latest", .weight = 20, .queue = "crm"}, to_crm)
        .action<lead_created>({.name = "earliest", .weight = -5, .queue = "crm"}, to_crm);
    std::vector<courier::route> routes;
    routes.emplace_back("events", input, choreo.router());
    courier::dispatcher d(io.get_executor(), std::move(routes), options());
    run(d, [&] { return input->empty(); });
    CHECK(order == std::vector<std::string>{"crm:earliest", "crm:first", "mail:second", "mail:late", "crm:latest"});
    REQUIRE(crm->sent.size() == 3);
    const auto& out = crm->sent[1];
    CHECK(out.body == R"({"lead_id":"L1","email":"a@example.com"})");
    CHECK(out.attributes.at("event_name").value == "lead.created");
    CHECK(out.attributes.at("source_message_id").value == "memory-1");
    CHECK(out.attributes.at("action").value == "first");
    CHECK(out.attributes.size() == 3);
    CHECK(out.deduplication_id.empty()); // a standard queue
    CHECK(out.group_id.empty());
    CHECK(input->counts().acked == 1);
    CHECK(logs.contains("event 'lead.created' has actions: earliest (-5) -> crm, first (10) -> crm, "
                        "second (10) -> mail, late (20) -> mail, latest (20) -> crm"));
    CHECK(logs.contains("event 'lead.created' dispatched to subscribers: choreography, actions"));
    CHECK(choreo.router().subscribers_of(courier::describe_event<lead_created>()) ==
          std::vector<std::string>{"choreography", "actions"});
    CHECK(choreo.router().subscribers_of(courier::describe_event<lead_deleted>()).empty()); // not known
    CHECK(logs.contains("action 'first' (weight 10) started"));
    CHECK(logs.contains("action 'second' sent to queue 'mail' as message mail-1"));
}

TEST_CASE_FIXTURE(fixture, "choreography: a transform that declines sends nothing, and the message is acknowledged; "
                           "an event without actions is only logged")
{
    auto input = queue();
    input->send(body_of("lead.created", R"({"id":"L1","email":"","name":"Ada"})"));
    input->send(body_of("lead.deleted", R"({"id":"L1"})"));
    auto mail = std::make_shared<recording_output>("mail");
    courier::output_queues outputs;
    outputs.add("mail", mail);
    courier::choreography choreo(outputs);
    choreo.action<lead_created>({.name = "welcome", .weight = 20, .queue = "mail"},
                                [](const lead_created& lead) -> std::optional<courier::json_text> {
                                    if (lead.email.empty())
                                        return std::nullopt;
                                    return courier::json_text{R"({"to":")" + lead.email + R"("})"};
                                });
    choreo.router().add_event<lead_deleted>();
    std::vector<courier::route> routes;
    routes.emplace_back("events", input, choreo.router());
    courier::dispatcher d(io.get_executor(), std::move(routes), options());
    run(d, [&] { return input->empty(); });
    CHECK(mail->sent.empty());
    CHECK(input->counts().acked == 2);
    CHECK(logs.contains("action 'welcome' skipped: its transform declined the event"));
    CHECK(logs.contains("event 'lead.deleted' has no actions"));
    const auto stats = choreo.stats();
    REQUIRE(stats.size() == 1);
    CHECK(stats[0].declined == 1);
    CHECK(stats[0].sent == 0);
}

TEST_CASE_FIXTURE(fixture, "choreography: a failing action stops the later ones and reaches the error handler; the "
                           "retry does not send the confirmed actions again")
{
    auto input = queue({.visibility_timeout = 30s});
    input->send(body_of("lead.created", ada));
    std::vector<std::string> order;
    auto crm = std::make_shared<recording_output>("crm", &order);
    auto mail = std::make_shared<recording_output>("mail", &order);
    auto audit = std::make_shared<recording_output>("audit", &order);
    mail->failures_left = 2;
    courier::output_queues outputs;
    outputs.add("crm", crm).add("mail", mail).add("audit", audit);
    courier::choreography choreo(outputs);
    const auto to_crm = [](const lead_created& lead) { return crm_lead{lead.id, lead.email}; };
    choreo.action<lead_created>({.name = "crm", .weight = 10, .queue = "crm"}, to_crm)
        .action<lead_created>({.name = "mail", .weight = 20, .queue = "mail"}, to_crm)
        .action<lead_created>({.name = "audit", .weight = 30, .queue = "audit"}, to_crm);
    std::vector<std::string> errors;
    std::vector<courier::route> routes;
    routes.emplace_back("events", input, choreo.router(),
                        courier::route_options{.on_error = [&](const courier::context&, std::exception_ptr e) {
                            errors.push_back(courier::error_text(e));
                            return courier::error_action::retry_after(5s);
                        }});
    courier::dispatcher d(io.get_executor(), std::move(routes), options());
    run(d, [&] { return input->empty(); });
    CHECK(order == std::vector<std::string>{"crm:crm", "mail:mail", "audit:audit"});
    CHECK(errors == std::vector<std::string>(2, "listener 'actions' of event 'lead.created' failed: action 'mail' "
                                                "(to queue 'mail') failed: mail is unavailable"));
    CHECK(input->counts().deliveries == 3);
    CHECK(input->counts().acked == 1);
    CHECK(logs.contains("action 'mail' failed: mail is unavailable; 1 later action(s) not run"));
    CHECK(logs.contains("action 'crm' was confirmed on an earlier delivery: not sent again"));
    const auto stats = choreo.stats();
    REQUIRE(stats.size() == 3);
    CHECK(stats[0].action == "crm");
    CHECK(stats[0].sent == 1);
    CHECK(stats[0].not_resent == 2);
    CHECK(stats[1].failed == 2);
    CHECK(stats[1].sent == 1);
    CHECK(stats[2].sent == 1);
}

TEST_CASE("choreography: an action naming an unknown output queue, or a name given twice, is refused at registration")
{
    courier::output_queues outputs;
    outputs.add("crm", std::make_shared<recording_output>("crm")).add("mail", std::make_shared<recording_output>("m"));
    CHECK_THROWS_WITH_AS(outputs.add("crm", std::make_shared<recording_output>("crm")),
                         "output_queues: queue 'crm' is given twice", courier::error);
    courier::choreography choreo(outputs);
    const auto to_crm = [](const lead_created& lead) { return crm_lead{lead.id, lead.email}; };
    CHECK_THROWS_WITH_AS(choreo.action<lead_created>({.name = "x", .weight = 1, .queue = "billing"}, to_crm),
                         "choreography: action 'x' sends to queue 'billing', which is not an output queue (known: "
                         "crm, mail)",
                         courier::error);
    choreo.action<lead_created>({.name = "x", .weight = 1, .queue = "crm"}, to_crm);
    CHECK_THROWS_WITH_AS(choreo.action<lead_created>({.name = "x", .weight = 2, .queue = "mail"}, to_crm),
                         "choreography: action 'x' is given twice (events 'lead.created' and 'lead.created')",
                         courier::error);
}

TEST_CASE_FIXTURE(fixture, "choreography: a FIFO output gets a deduplication id from (input id, action), the same on "
                           "every delivery, and the input's group or the event's name as its group")
{
    auto input = queue({.visibility_timeout = 30s});
    input->send(body_of("lead.created", ada));
    auto crm = std::make_shared<recording_output>("crm");
    auto mail = std::make_shared<recording_output>("mail");
    auto audit = std::make_shared<recording_output>("audit");
    audit->failures_left = 1;
    courier::output_queues outputs;
    outputs.add("crm", crm, {.fifo = true}).add("mail", mail, {.fifo = true}).add("audit", audit);
    // Without remembering, the retry sends crm and mail again: the duplicates SQS drops.
    courier::choreography choreo(outputs, {.remembered_partial_deliveries = 0});
    const auto to_crm = [](const lead_created& lead) { return crm_lead{lead.id, lead.email}; };
    choreo.action<lead_created>({.name = "crm", .weight = 10, .queue = "crm"}, to_crm)
        .action<lead_created>({.name = "mail", .weight = 20, .queue = "mail"}, to_crm)
        .action<lead_created>({.name = "audit", .weight = 30, .queue = "audit"}, to_crm);
    std::vector<courier::route> routes;
    routes.emplace_back("events", input, choreo.router(),
                        courier::route_options{.on_error = [](const courier::context&, std::exception_ptr) {
                            return courier::error_action::retry_after(1s);
                        }});
    courier::dispatcher d(io.get_executor(), std::move(routes), options());
    run(d, [&] { return input->empty(); });
    REQUIRE(crm->sent.size() == 2);
    REQUIRE(mail->sent.size() == 2);
    const auto& first = crm->sent[0].deduplication_id;
    CHECK(first.size() == 64);
    CHECK(first.find_first_not_of("0123456789abcdef") == std::string::npos);
    CHECK(crm->sent[1].deduplication_id == first);
    CHECK(mail->sent[0].deduplication_id == mail->sent[1].deduplication_id);
    CHECK(mail->sent[0].deduplication_id != first);
    CHECK(crm->sent[0].group_id == "lead.created");
    REQUIRE(audit->sent.size() == 1);
    CHECK(audit->sent[0].deduplication_id.empty()); // a standard queue
}

TEST_CASE_FIXTURE(fixture, "choreography: an unknown event name and a payload missing a member are errors for the "
                           "error handler, with the JSON path")
{
    auto input = queue();
    input->send(body_of("lead.exploded", ada));
    input->send(body_of("lead.created", R"({"id":"L1","name":"Ada"})"));
    courier::output_queues outputs;
    outputs.add("crm", std::make_shared<recording_output>("crm"));
    courier::choreography choreo(outputs);
    choreo.action<lead_created>({.name = "crm", .weight = 10, .queue = "crm"}, [](const lead_created& lead) {
        return crm_lead{lead.id, lead.email};
    });
    std::vector<std::string> errors;
    std::vector<courier::route> routes;
    routes.emplace_back("events", input, choreo.router(),
                        courier::route_options{.on_error = [&](const courier::context&, std::exception_ptr e) {
                            errors.push_back(courier::error_text(e));
                            return courier::error_action::ack();
                        }});
    courier::dispatcher d(io.get_executor(), std::move(routes), options());
    run(d, [&] { return input->empty(); });
    REQUIRE(errors.size() == 2);
    const auto any_has = [&](std::string_view text) {
        return std::any_of(errors.begin(), errors.end(),
                           [&](const std::string& e) { return e.find(text) != std::string::npos; });
    };
    CHECK(any_has("$.data.email"));
    CHECK(any_has("no listener knows event 'lead.exploded' (known: lead.created)"));
}
