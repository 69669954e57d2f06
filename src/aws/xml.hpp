// A small XML reader for the flat answers of the AWS query protocol (STS credentials, SNS
// results and errors): the text of an element's leaf children, nothing more.
//
// The documents may hold secrets (STS credentials), so errors name the problem and never
// quote the document.
#ifndef COURIER_SRC_AWS_XML_HPP
#define COURIER_SRC_AWS_XML_HPP

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace courier::aws {

/// Text of the leaf elements directly inside an element, by local name (a namespace prefix
/// is dropped), entities decoded.
using xml_fields = std::map<std::string, std::string, std::less<>>;

/// The leaf children of the first element whose local name is `parent`
/// (`<parent><a>x</a><b/></parent>` gives {a: "x", b: ""}; children that hold elements are
/// skipped), or nothing if there is no such element.
///
/// A deliberately small reader for the few flat documents STS and SNS return: it understands
/// tags with attributes, comments, CDATA, processing instructions and the XML entities
/// (named and numeric), and refuses DOCTYPE declarations, mismatched or unterminated tags.
/// Throws `courier::error` (`errc::bad_response`) "malformed XML: ...".
std::optional<xml_fields> xml_leaf_children(std::string_view xml, std::string_view parent);

} // namespace courier::aws

#endif
