// Form encoding with Boost.URL. Its default options already give what SigV4 signs (no `+`
// for a space, upper-case hex), so no option is spelled out.
#include "aws/form_encoding.hpp"

#include <boost/url/encode.hpp>
#include <boost/url/grammar/string_token.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

namespace courier::aws {

void append_form_encoded(std::string& out, std::string_view value)
{
    boost::urls::encode(value, boost::urls::unreserved_chars, {}, boost::urls::string_token::append_to(out));
}

std::string form_encode(std::string_view value)
{
    std::string out;
    append_form_encoded(out, value);
    return out;
}

} // namespace courier::aws
