// The collector queue's error category.
#include <courier/collector/errc.hpp>

#include <string>

namespace courier::event_collector {
namespace {

class category final : public std::error_category
{
public:
    const char* name() const noexcept override { return "courier.collector"; }

    std::string message(int value) const override
    {
        switch (static_cast<errc>(value))
        {
        case errc::setup_failed: return "collector setup failed";
        case errc::teardown_failed: return "collector teardown failed";
        case errc::queue_stopped: return "collector queue stopped";
        case errc::payload_cancelled: return "payload cancelled";
        case errc::collectors_failed: return "collectors failed";
        case errc::bad_value: return "no value of the type asked for";
        }
        return "unknown collector error";
    }
};

} // namespace

const std::error_category& collector_category() noexcept
{
    static const category instance;
    return instance;
}

} // namespace courier::event_collector
