// The Prometheus text exposition format (version 0.0.4): families with their HELP and TYPE
// lines, samples with escaped label values, and histograms as cumulative buckets.
#ifndef COURIER_SRC_METRICS_EXPOSITION_HPP
#define COURIER_SRC_METRICS_EXPOSITION_HPP

#include "metrics/histogram.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace courier::detail::metrics {

using labels = std::vector<std::pair<std::string_view, std::string_view>>;

class exposition
{
public:
    /// Starts a family: `type` is "counter", "gauge" or "histogram".
    void family(std::string_view name, std::string_view type, std::string_view help);
    void sample(std::string_view name, const labels& labels, double value);
    /// The `_bucket`, `_sum` and `_count` samples of `h` under `name`.
    void histogram_samples(std::string_view name, const labels& labels, const histogram& h);

    const std::string& text() const noexcept { return out_; }
    std::string take() noexcept { return std::move(out_); }

    /// The Content-Type of this format.
    static constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";

private:
    void write_labels(const labels& labels, std::string_view extra_name = {}, std::string_view extra_value = {});
    void write_value(double value);

    std::string out_;
};

} // namespace courier::detail::metrics

#endif
