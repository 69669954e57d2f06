// Quoting untrusted text from AWS answers in courier's errors and logs: a short, printable
// excerpt of a body that was not what it should be, and a server's message cut to a bound
// without splitting a UTF-8 sequence. Shared by the SQS and SNS protocol readers.
#ifndef COURIER_SRC_AWS_EXCERPT_HPP
#define COURIER_SRC_AWS_EXCERPT_HPP

#include <cstddef>
#include <string>
#include <string_view>

namespace courier::aws {

/// The first `limit` bytes of untrusted text for an error message, bytes outside printable
/// ASCII replaced by '?', "..." appended if cut.
std::string excerpt(std::string_view text, std::size_t limit = 48);

/// Untrusted server text cut to `limit` bytes (plus "...") on a UTF-8 boundary.
std::string capped(std::string_view text, std::size_t limit = 1024);

} // namespace courier::aws

#endif
