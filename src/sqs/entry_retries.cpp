// Entry results of SQS batch requests (see entry_retries.hpp).
#include "sqs/entry_retries.hpp"

namespace courier::sqs {

std::exception_ptr entry_retrier::result_of(const entry_outcome& outcome, const std::exception_ptr& request_failure,
                                            std::string_view message_id, std::string_view action,
                                            std::string_view queue) const
{
    if (outcome.state == entry_state::succeeded)
        return nullptr;
    if (outcome.missing)
    {
        // Not a success: counting an acknowledgement the server never confirmed as done could
        // lose the message. As a failure, the message comes back after its visibility timeout.
        log_.log(log_level::warning, {}, message_id,
                 "{} answer lists the entry under neither Successful nor Failed; it counts as failed", action);
        return std::make_exception_ptr(error(
            errc::bad_response, std::string(action) + " answer lists the entry under neither Successful nor Failed",
            {.message_id = std::string(message_id), .action = std::string(action), .queue = std::string(queue)}));
    }
    if (outcome.failure.id.empty())
        return request_failure
                   ? request_failure
                   : std::make_exception_ptr(error(errc::bad_response,
                                                   std::string(action) + " left the entry without an outcome",
                                                   {.message_id = std::string(message_id),
                                                    .action = std::string(action),
                                                    .queue = std::string(queue)}));
    error_response e;
    e.code = outcome.failure.code;
    e.message = outcome.failure.message;
    e.http_status = 200;
    e.sender_fault = outcome.failure.sender_fault;
    const courier::error server = make_error(e, action, queue);
    error_context context = server.context();
    context.message_id = message_id;
    return std::make_exception_ptr(error(server.code(), server.detail(), std::move(context)));
}

} // namespace courier::sqs
