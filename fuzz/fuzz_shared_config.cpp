// Fuzz target: the AWS shared config and credentials files (src/aws/shared_config.cpp): the
// INI parser and the profile lookup that reads its result.
//
// Contract: a document, or `courier::error` with `errc::bad_configuration`. The parsed
// document is then searched the way the credential chain does, in both file flavours.
#include "aws/shared_config.hpp"

#include <courier/error.hpp>

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    namespace aws = courier::aws;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try
    {
        const auto doc = aws::parse_ini(text, "fuzz");
        for (const auto& [name, section] : doc)
        {
            // Keys are stored lower-case (botocore's rule); a violation would make lookups
            // of `aws_access_key_id` miss a key the file sets.
            for (const auto& [key, value] : section)
                for (const char c : key)
                    if (std::isupper(static_cast<unsigned char>(c)))
                        std::abort();
            (void)aws::find_profile(doc, name, aws::shared_file::credentials);
            (void)aws::find_profile(doc, name, aws::shared_file::config);
        }
        (void)aws::find_profile(doc, "default", aws::shared_file::config);
        (void)aws::find_profile(doc, "dev", aws::shared_file::config);
    }
    catch (const courier::error& e)
    {
        if (e.code() != courier::errc::bad_configuration)
            std::abort();
    }
    return 0;
}
