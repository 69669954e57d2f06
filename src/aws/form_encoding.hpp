// The percent-encoding of the AWS query protocol's `application/x-www-form-urlencoded`
// bodies, shared by the STS credential source and the SNS client.
//
// One function rather than one per caller because SigV4 signs the body byte for byte: two
// encoders that drifted apart (a `+` for a space, lower-case hex) would break signatures in
// only one of the two clients.
#ifndef COURIER_SRC_AWS_FORM_ENCODING_HPP
#define COURIER_SRC_AWS_FORM_ENCODING_HPP

#include <string>
#include <string_view>

namespace courier::aws {

/// Appends `value` to `out`, percent-encoding every byte except the unreserved
/// `A-Z a-z 0-9 - _ . ~`, spaces as `%20` and hex digits in upper case.
void append_form_encoded(std::string& out, std::string_view value);

/// `value` encoded as by `append_form_encoded`.
std::string form_encode(std::string_view value);

} // namespace courier::aws

#endif
