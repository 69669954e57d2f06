// The XML reader behind xml_leaf_children.
//
// Why our own XML reader: STS and SNS answer with flat, well-known documents, and an XML
// library would be a new dependency with a much larger attack surface (entity expansion,
// external entities). The reader only walks tags and text; it refuses DOCTYPE so no entity
// can be declared, and decodes only the five predefined entities and character references.
#include "aws/xml.hpp"

#include "courier/error.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <vector>

namespace courier::aws {

namespace {

[[noreturn]] void bad_xml(std::string_view problem)
{
    throw error(errc::bad_response, fmt::format("malformed XML: {}", problem));
}

void append_utf8(std::string& out, std::uint32_t cp)
{
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        bad_xml("invalid character reference");
    if (cp < 0x80)
    {
        out += static_cast<char>(cp);
    }
    else if (cp < 0x800)
    {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
    else if (cp < 0x10000)
    {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
    else
    {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

// Appends character data, decoding entities and character references.
void append_text(std::string& out, std::string_view text)
{
    for (std::size_t i = 0; i < text.size();)
    {
        if (text[i] != '&')
        {
            out += text[i++];
            continue;
        }
        const auto semi = text.find(';', i);
        if (semi == std::string_view::npos || semi - i > 12)
            bad_xml("unterminated entity");
        const std::string_view name = text.substr(i + 1, semi - i - 1);
        i = semi + 1;
        if (name == "lt")
            out += '<';
        else if (name == "gt")
            out += '>';
        else if (name == "amp")
            out += '&';
        else if (name == "quot")
            out += '"';
        else if (name == "apos")
            out += '\'';
        else if (name.size() > 1 && name[0] == '#')
        {
            const bool hex = name[1] == 'x' || name[1] == 'X';
            const std::string_view digits = name.substr(hex ? 2 : 1);
            if (digits.empty())
                bad_xml("invalid character reference");
            std::uint32_t cp = 0;
            for (const char c : digits)
            {
                int d = -1;
                if (c >= '0' && c <= '9')
                    d = c - '0';
                else if (hex && c >= 'a' && c <= 'f')
                    d = c - 'a' + 10;
                else if (hex && c >= 'A' && c <= 'F')
                    d = c - 'A' + 10;
                if (d < 0 || cp > 0x10FFFF)
                    bad_xml("invalid character reference");
                cp = cp * (hex ? 16 : 10) + static_cast<std::uint32_t>(d);
            }
            append_utf8(out, cp);
        }
        else
        {
            bad_xml("unknown entity");
        }
    }
}

std::string_view local_name(std::string_view qualified) noexcept
{
    const auto colon = qualified.find(':');
    return colon == std::string_view::npos ? qualified : qualified.substr(colon + 1);
}

} // namespace

std::optional<xml_fields> xml_leaf_children(std::string_view xml, std::string_view parent)
{
    std::vector<std::string_view> open; // local names of the open elements
    std::optional<xml_fields> fields;
    std::size_t parent_depth = 0; // open.size() while directly inside `parent`; 0: not found
    bool leaf = false;            // the child being read has held no element so far
    std::string text;             // its text

    auto in_child = [&] { return parent_depth != 0 && open.size() == parent_depth + 1; };
    std::size_t pos = 0;
    while (pos < xml.size())
    {
        const auto lt = xml.find('<', pos);
        if (in_child() && leaf)
            append_text(text, xml.substr(pos, lt == std::string_view::npos ? lt : lt - pos));
        if (lt == std::string_view::npos)
            break;
        const std::string_view rest = xml.substr(lt);
        auto skip_to = [&](std::string_view close, std::size_t from) {
            const auto end = xml.find(close, from);
            if (end == std::string_view::npos)
                bad_xml("unterminated comment, CDATA or processing instruction");
            return end;
        };
        if (rest.starts_with("<!--"))
        {
            pos = skip_to("-->", lt + 4) + 3;
            continue;
        }
        if (rest.starts_with("<![CDATA["))
        {
            const auto end = skip_to("]]>", lt + 9);
            if (in_child() && leaf)
                text.append(xml.substr(lt + 9, end - lt - 9));
            pos = end + 3;
            continue;
        }
        if (rest.starts_with("<?"))
        {
            pos = skip_to("?>", lt + 2) + 2;
            continue;
        }
        if (rest.starts_with("<!"))
            bad_xml("DOCTYPE declarations are not accepted");

        // A start or end tag: find its '>', which may not sit inside a quoted attribute value.
        std::size_t gt = lt + 1;
        for (char quote = 0; gt < xml.size(); ++gt)
        {
            const char c = xml[gt];
            if (quote != 0)
            {
                if (c == quote)
                    quote = 0;
            }
            else if (c == '"' || c == '\'')
            {
                quote = c;
            }
            else if (c == '>')
            {
                break;
            }
        }
        if (gt >= xml.size())
            bad_xml("unterminated tag");
        std::string_view tag = xml.substr(lt + 1, gt - lt - 1);
        pos = gt + 1;
        const bool closing = tag.starts_with('/');
        const bool empty = !closing && tag.ends_with('/');
        if (closing)
            tag.remove_prefix(1);
        if (empty)
            tag.remove_suffix(1);
        const std::string_view name = local_name(tag.substr(0, tag.find_first_of(" \t\r\n")));
        if (name.empty())
            bad_xml("tag without a name");

        if (closing)
        {
            if (open.empty() || open.back() != name)
                bad_xml("mismatched end tag");
            if (in_child() && leaf)
                (*fields)[std::string(name)] = std::move(text);
            open.pop_back();
            if (parent_depth != 0 && open.size() < parent_depth)
                return fields; // `parent` closed
            continue;
        }
        if (in_child())
            leaf = false; // the child holds an element: not a leaf
        if (empty)
        {
            if (parent_depth == 0 && name == parent)
                return xml_fields{};
            if (parent_depth != 0 && open.size() == parent_depth)
                (*fields)[std::string(name)] = std::string();
            continue;
        }
        open.push_back(name);
        if (parent_depth == 0 && name == parent)
        {
            parent_depth = open.size();
            fields.emplace();
        }
        else if (in_child())
        {
            leaf = true;
            text.clear();
        }
    }
    if (!open.empty())
        bad_xml("document ends inside an element");
    return std::nullopt;
}

} // namespace courier::aws
