// Amazon SQS, all of it: the client (sqs/client.hpp), the provider routes consume from
// (sqs/provider.hpp) and the one-queue publisher (sqs/publisher.hpp).
#ifndef COURIER_SQS_HPP
#define COURIER_SQS_HPP

#include <courier/sqs/client.hpp>
#include <courier/sqs/provider.hpp>
#include <courier/sqs/publisher.hpp>

#endif
