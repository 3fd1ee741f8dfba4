#include "commands/product/batch_reservation.hpp"

#include <algorithm>
#include <cstdlib>
#include <string>
#include <utility>

#include "commands/product/product_aggregate.hpp"

namespace cqrs::commands::product {

namespace {

using schemas::reservation_id;

// The step's command for one product, or nothing when the product has done this step already.
std::optional<schemas::product_command> command_for(batch_reservation::step kind, const product_state& s,
                                                    const schemas::order_line& line, const reservation_id& id) {
  switch (kind) {
    case batch_reservation::step::reserve:
      if (s.reservation_id_used(id)) return std::nullopt;
      return schemas::reserve_stock{id, line.units};
    case batch_reservation::step::release:
      if (!s.open_reservations.contains(id)) return std::nullopt;
      return schemas::release_reservation{id};
    case batch_reservation::step::commit:
      if (s.closed_reservations.contains(id)) return std::nullopt;
      return schemas::commit_reservation{id};
  }
  std::abort();
}

// A reservation priced in another currency than the product's: the order was placed against a
// price the product no longer has in that currency.
std::optional<rejection> currency_mismatch(batch_reservation::step kind, const product_state& s,
                                           const schemas::order_line& line) {
  if (kind != batch_reservation::step::reserve || line.unit_price.currency == s.price.currency) return std::nullopt;
  return rejection{errc::invalid_currency, "the order's currency " + line.unit_price.currency.value() +
                                               " is not the product's " + s.price.currency.value()};
}

core::append_request request_for(const core::stream_id& stream, const loaded_aggregate<product_state>& loaded,
                                 const std::vector<schemas::product_event>& events,
                                 const core::event_metadata& metadata, std::int64_t snapshot_every) {
  core::append_request request{stream, core::expected_version::exact(loaded.version), {}, metadata, std::nullopt,
                               std::nullopt};
  for (const auto& event : events) {
    auto encoded = product_aggregate::encode_event(event);
    request.events.push_back(core::new_event{std::move(encoded.type), encoded.schema_version, std::move(encoded.data)});
  }
  const core::stream_version reached{loaded.version.value() + static_cast<std::int64_t>(events.size())};
  if (detail::snapshot_due(loaded.version, reached, snapshot_every)) {
    request.snapshot = core::snapshot_write{product_aggregate::snapshot_schema_version,
                                            product_aggregate::encode_snapshot(core::fold<product_aggregate>(loaded.state, events))};
  }
  return request;
}

bool done_for_missing(batch_reservation::step kind, const product_state& s) {
  return kind == batch_reservation::step::release && !s.exists;
}

}  // namespace

schemas::reservation_id reservation_for(const schemas::order_id& order) { return reservation_id(order.value()); }

std::optional<core::stream_id> product_stream(const schemas::product_id& product) {
  auto parsed = core::stream_id::parse(std::string(product_aggregate::category) + "-" + product.value());
  if (!parsed) return std::nullopt;
  return std::move(parsed).value();
}

batch_reservation::batch_reservation(core::event_store& store, pipeline_options options)
    : store_(store), options_(options), products_(store, options) {}

batch_outcome batch_reservation::reserve_all(const std::vector<schemas::order_line>& lines,
                                             const reservation_id& reservation, const command_context& context) {
  return run(step::reserve, lines, reservation, context);
}

batch_outcome batch_reservation::release_all(const std::vector<schemas::order_line>& lines,
                                             const reservation_id& reservation, const command_context& context) {
  return run(step::release, lines, reservation, context);
}

batch_outcome batch_reservation::commit_all(const std::vector<schemas::order_line>& lines,
                                            const reservation_id& reservation, const command_context& context) {
  return run(step::commit, lines, reservation, context);
}

namespace {

using plan = std::variant<std::vector<core::append_request>, batch_refused>;

// Every product loaded and decided: the appends to make (possibly none), or the first refusal.
plan plan_batch(product_pipeline& products, batch_reservation::step kind, const std::vector<schemas::order_line>& lines,
                const reservation_id& id, const core::event_metadata& metadata, std::int64_t snapshot_every) {
  std::vector<core::append_request> requests;
  for (const auto& line : lines) {
    const auto stream = product_stream(line.product);
    if (!stream) {
      if (kind == batch_reservation::step::release) continue;
      return batch_refused{line.product, rejection{errc::product_not_found, "not a product id"}};
    }
    const auto loaded = products.load(*stream);
    if (done_for_missing(kind, loaded.state)) continue;
    const auto command = command_for(kind, loaded.state, line, id);
    if (!command) continue;
    auto decision = product_aggregate::decide(loaded.state, *command);
    if (!decision.accepted()) return batch_refused{line.product, decision.rejection()};
    if (auto mismatch = currency_mismatch(kind, loaded.state, line)) return batch_refused{line.product, *mismatch};
    if (decision.events().empty()) continue;
    requests.push_back(request_for(*stream, loaded, decision.events(), metadata, snapshot_every));
  }
  return requests;
}

core::log_position last_of(const std::vector<core::append_success>& written) {
  core::log_position last = written.front().last_position();
  for (const auto& one : written) last = std::max(last, one.last_position());
  return last;
}

}  // namespace

batch_outcome batch_reservation::run(step kind, const std::vector<schemas::order_line>& lines,
                                     const reservation_id& reservation, const command_context& context) {
  auto metadata = detail::metadata_for(context);
  if (auto* invalid = std::get_if<invalid_request>(&metadata)) return std::move(*invalid);
  const auto& event_metadata = std::get<core::event_metadata>(metadata);
  detail::backoff pause(options_);
  for (int attempt = 1;; ++attempt) {
    auto planned = plan_batch(products_, kind, lines, reservation, event_metadata, options_.snapshot_every);
    if (auto* refused = std::get_if<batch_refused>(&planned)) return std::move(*refused);
    const auto& requests = std::get<std::vector<core::append_request>>(planned);
    if (requests.empty()) return batch_done{std::nullopt};
    const auto written = store_.append_streams(requests);
    if (written) return batch_done{last_of(written.value())};
    if (written.code() != core::errc::version_conflict) return invalid_request{written.error()};
    if (attempt >= options_.max_attempts) return batch_contended{attempt};
    pause.wait(attempt);
  }
}

std::vector<product_facts> current_products(core::event_store& store, const std::vector<schemas::product_id>& products) {
  product_pipeline pipeline(store);
  std::vector<product_facts> out;
  out.reserve(products.size());
  for (const auto& id : products) {
    product_facts facts{id};
    if (const auto stream = product_stream(id)) {
      const auto loaded = pipeline.load(*stream);
      facts.exists = loaded.state.exists;
      facts.discontinued = loaded.state.discontinued;
      facts.price = loaded.state.price;
      facts.available = loaded.state.available();
    }
    out.push_back(std::move(facts));
  }
  return out;
}

}  // namespace cqrs::commands::product
