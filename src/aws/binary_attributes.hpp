// Binary message attributes as SQS and SNS carry them: which data types are binary
// ("Binary", "Binary.<custom>"), and the base64 form their values travel in
// (`BinaryValue`).
#ifndef COURIER_SRC_AWS_BINARY_ATTRIBUTES_HPP
#define COURIER_SRC_AWS_BINARY_ATTRIBUTES_HPP

#include <optional>
#include <string>
#include <string_view>

namespace courier::aws {

/// "Binary" or "Binary.<custom>": sent base64 as `BinaryValue` (transport type 2 in SQS's
/// attribute MD5); every other type is sent as `StringValue`.
bool is_binary_type(std::string_view data_type) noexcept;

/// Appends `bytes` to `out` in standard base64 with padding.
void append_base64(std::string& out, std::string_view bytes);

/// Strict base64 (padding optional); nullopt on any character outside the alphabet.
std::optional<std::string> decode_base64(std::string_view text);

} // namespace courier::aws

#endif
