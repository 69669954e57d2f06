// Writing JSON strings: the one escaper courier uses, for SQS request bodies and for
// `courier::json_encode`. Compiled once (src/sqs/protocol_encoding.cpp), fast on ASCII.
#ifndef COURIER_DETAIL_JSON_WRITER_HPP
#define COURIER_DETAIL_JSON_WRITER_HPP

#include <cstddef>
#include <string>
#include <string_view>

namespace courier::detail {

/// Appends `value` to `out` as a JSON string literal, quotes included ('"', '\\' and
/// control characters escaped; valid UTF-8 copied as is). Returns npos, or the offset of
/// the first byte that is not valid UTF-8 (then `out` holds a partial literal).
std::size_t append_json_string(std::string& out, std::string_view value);

} // namespace courier::detail

#endif
