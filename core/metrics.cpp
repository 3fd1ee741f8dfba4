#include "core/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>

namespace cqrs::core {

namespace {

bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

// Metric names may also contain ':' (reserved for recording rules, but valid); label names not.
void check_name(std::string_view name, bool colons, std::string_view what) {
  const auto valid_char = [colons](char c) { return is_name_char(c) || (colons && c == ':'); };
  const bool valid = !name.empty() && (is_name_start(name.front()) || (colons && name.front() == ':')) &&
                     std::all_of(name.begin(), name.end(), valid_char);
  if (!valid || name.starts_with("__")) {
    throw std::invalid_argument(fmt::format("invalid {} '{}'", what, name));
  }
}

void check_labels(const metric_labels& labels) {
  for (const auto& [name, value] : labels) {
    check_name(name, false, "label name");
    if (name == "le") throw std::invalid_argument("label name 'le' is reserved for histogram buckets");
  }
}

std::string escape(std::string_view text, bool quotes) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (c == '"' && quotes) out += "\\\"";
    else out.push_back(c);
  }
  return out;
}

// {a="1",b="2"} with an optional extra label (le for buckets); empty when there is none.
std::string label_text(const metric_labels& labels, std::string_view extra_name = {}, std::string_view extra_value = {}) {
  std::string out;
  const auto append = [&out](std::string_view name, std::string_view value) {
    out += fmt::format("{}{}=\"{}\"", out.empty() ? "{" : ",", name, escape(value, true));
  };
  for (const auto& [name, value] : labels) append(name, value);
  if (!extra_name.empty()) append(extra_name, extra_value);
  return out.empty() ? out : out + "}";
}

void render_sample(std::string& out, std::string_view name, const std::string& labels, double value) {
  out += fmt::format("{}{} {}\n", name, labels, format_metric_value(value));
}

void render_histogram(std::string& out, const std::string& name, const metric_labels& labels, const histogram& h) {
  const auto snap = h.collect();
  const auto& bounds = h.upper_bounds();
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    render_sample(out, name + "_bucket", label_text(labels, "le", format_metric_value(bounds[i])),
                  static_cast<double>(snap.cumulative[i]));
  }
  render_sample(out, name + "_bucket", label_text(labels, "le", "+Inf"), static_cast<double>(snap.count()));
  render_sample(out, name + "_sum", label_text(labels), snap.sum);
  render_sample(out, name + "_count", label_text(labels), static_cast<double>(snap.count()));
}

}  // namespace

histogram::histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), buckets_(new std::atomic<std::uint64_t>[bounds_.size() + 1]) {
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    if (!std::isfinite(bounds_[i]) || (i > 0 && bounds_[i] <= bounds_[i - 1])) {
      throw std::invalid_argument("histogram bounds must be finite and strictly ascending");
    }
  }
  for (std::size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void histogram::observe(double value) noexcept {
  // The first bound >= value: Prometheus buckets are "less than or equal".
  const auto bucket = static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

histogram::snapshot histogram::collect() const {
  snapshot out;
  out.cumulative.reserve(bounds_.size() + 1);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    out.cumulative.push_back(running);
  }
  out.sum = sum_.load(std::memory_order_relaxed);
  return out;
}

std::vector<double> exponential_buckets(double start, double factor, std::size_t count) {
  if (start <= 0 || factor <= 1) throw std::invalid_argument("exponential buckets need start > 0 and factor > 1");
  std::vector<double> bounds;
  for (double bound = start; bounds.size() < count; bound *= factor) bounds.push_back(bound);
  return bounds;
}

metrics_registry::family& metrics_registry::family_for(std::string_view name, std::string_view help, metric_type type) {
  check_name(name, true, "metric name");
  auto it = families_.find(name);
  if (it == families_.end()) it = families_.emplace(std::string(name), family{type, std::string(help), {}}).first;
  if (it->second.type != type) {
    throw std::invalid_argument(fmt::format("metric '{}' is already registered as a {}", name, type_name(it->second.type)));
  }
  if (it->second.help != help) throw std::invalid_argument(fmt::format("metric '{}' registered with other help", name));
  return it->second;
}

metrics_registry::series* metrics_registry::find_series(family& f, const metric_labels& labels) {
  const auto same = [&labels](const series& s) { return s.labels == labels; };
  const auto it = std::find_if(f.members.begin(), f.members.end(), same);
  return it == f.members.end() ? nullptr : &*it;
}

counter& metrics_registry::make_counter(std::string_view name, std::string_view help, metric_labels labels) {
  check_labels(labels);
  const std::lock_guard lock(mutex_);
  family& f = family_for(name, help, metric_type::counter);
  if (series* existing = find_series(f, labels)) return *std::get<std::unique_ptr<counter>>(existing->value);
  return *std::get<std::unique_ptr<counter>>(f.members.emplace_back(series{std::move(labels), std::make_unique<counter>()}).value);
}

gauge& metrics_registry::make_gauge(std::string_view name, std::string_view help, metric_labels labels) {
  check_labels(labels);
  const std::lock_guard lock(mutex_);
  family& f = family_for(name, help, metric_type::gauge);
  if (series* existing = find_series(f, labels)) return *std::get<std::unique_ptr<gauge>>(existing->value);
  return *std::get<std::unique_ptr<gauge>>(f.members.emplace_back(series{std::move(labels), std::make_unique<gauge>()}).value);
}

histogram& metrics_registry::make_histogram(std::string_view name, std::string_view help, std::vector<double> upper_bounds,
                                            metric_labels labels) {
  check_labels(labels);
  auto fresh = std::make_unique<histogram>(std::move(upper_bounds));
  const std::lock_guard lock(mutex_);
  family& f = family_for(name, help, metric_type::histogram);
  if (series* existing = find_series(f, labels)) {
    auto& found = *std::get<std::unique_ptr<histogram>>(existing->value);
    if (found.upper_bounds() != fresh->upper_bounds()) {
      throw std::invalid_argument(fmt::format("histogram '{}' registered with other buckets", name));
    }
    return found;
  }
  return *std::get<std::unique_ptr<histogram>>(f.members.emplace_back(series{std::move(labels), std::move(fresh)}).value);
}

std::string_view metrics_registry::type_name(metric_type type) {
  switch (type) {
    case metric_type::counter: return "counter";
    case metric_type::gauge: return "gauge";
    case metric_type::histogram: return "histogram";
  }
  return "untyped";
}

void metrics_registry::render_family(std::string& out, const std::string& name, const family& f) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, escape(f.help, false), name, type_name(f.type));
  for (const auto& member : f.members) {
    const auto& labels = member.labels;
    std::visit(
        [&](const auto& metric) {
          using type = std::decay_t<decltype(*metric)>;
          if constexpr (std::is_same_v<type, histogram>) render_histogram(out, name, labels, *metric);
          else render_sample(out, name, label_text(labels), metric->value());
        },
        member.value);
  }
}

std::string metrics_registry::render() const {
  std::string out;
  const std::lock_guard lock(mutex_);
  for (const auto& [name, f] : families_) render_family(out, name, f);
  return out;
}

std::string format_metric_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // Exact integers (counts) print without an exponent or fraction, up to 2^53.
  if (value == std::trunc(value) && std::fabs(value) < 9007199254740992.0) {
    return fmt::format("{}", static_cast<std::int64_t>(value));
  }
  return fmt::format("{}", value);
}

bool write_metrics_file(const metrics_registry& registry, const std::string& path, std::string_view more) {
  const std::filesystem::path target(path);
  const auto temporary = target.string() + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << registry.render() << more;
    if (!out) return false;
  }
  std::error_code error;
  std::filesystem::rename(temporary, target, error);
  return !error;
}

}  // namespace cqrs::core
