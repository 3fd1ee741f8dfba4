#include "projections/pg_target.hpp"

#include <pqxx/pqxx>

namespace cqrs::projections {

namespace detail {

std::string live_model_in(pqxx::transaction_base& tx, const std::string& projection) {
  const auto rows =
      tx.exec_params("SELECT model FROM projection_live_models WHERE projection = $1 FOR SHARE", projection);
  if (rows.empty()) throw std::runtime_error("projection " + projection + " has no live model row");
  return rows[0][0].as<std::string>();
}

std::int64_t lock_applied_version(pqxx::transaction_base& tx, const std::string& model, const std::string& stream) {
  // Insert-then-lock: two first applies of a new stream serialise on the row instead of both
  // seeing "none" and applying twice.
  tx.exec_params(
      "INSERT INTO projection_stream_versions (model, stream_id, version) VALUES ($1, $2, 0) "
      "ON CONFLICT DO NOTHING",
      model, stream);
  const auto rows = tx.exec_params(
      "SELECT version FROM projection_stream_versions WHERE model = $1 AND stream_id = $2 FOR UPDATE", model, stream);
  return rows[0][0].as<std::int64_t>();
}

void set_applied_version(pqxx::transaction_base& tx, const std::string& model, const std::string& stream,
                         std::int64_t version) {
  tx.exec_params("UPDATE projection_stream_versions SET version = $3 WHERE model = $1 AND stream_id = $2", model,
                 stream, version);
}

}  // namespace detail

namespace {

// Writes a folded model in one transaction: the projection's rows, then every stream's applied
// version with COPY, so the model and its bookkeeping commit together.
class pg_builder final : public model_builder {
 public:
  pg_builder(core::pg_connection& connection, std::string model, std::unique_ptr<pg_fold> fold)
      : connection_(connection), model_(std::move(model)), fold_(std::move(fold)) {}

  void add(const core::recorded_event& event, std::size_t stream) override { fold_->add(event, stream); }

  void write(const std::unordered_map<std::string, std::int64_t>& applied) override {
    pqxx::work tx(connection_.get());
    fold_->write(tx, model_);
    pqxx::stream_to versions(tx, "projection_stream_versions", std::vector<std::string>{"model", "stream_id", "version"});
    for (const auto& [stream, version] : applied) versions << std::make_tuple(model_, stream, version);
    versions.complete();
    tx.commit();
  }

  bool owns_connection() const override { return true; }

 private:
  core::pg_connection& connection_;
  std::string model_;
  std::unique_ptr<pg_fold> fold_;
};

}  // namespace

std::unique_ptr<model_builder> pg_target::start_build(const std::string& model) {
  auto fold = projection_.start_fold();
  if (!fold) return nullptr;
  return std::make_unique<pg_builder>(connection_, model, std::move(fold));
}

pg_target::pg_target(std::string url, core::event_store& store, const pg_projection& projection)
    : connection_(std::move(url)), store_(store), projection_(projection) {
  ensure_live_row();
}

void pg_target::ensure_live_row() {
  pqxx::work tx(connection_.get());
  tx.exec_params("INSERT INTO projection_live_models (projection, model) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                 info().name, info().initial_model());
  tx.commit();
}

apply_counts pg_target::apply_one(pqxx::transaction_base& tx, const std::string& model,
                                  const core::recorded_event& event) {
  apply_counts counts;
  const auto& stream = event.stream.str();
  const auto last = detail::lock_applied_version(tx, model, stream);
  if (event.version.value() <= last) {
    counts.duplicates = 1;
    return counts;
  }
  // A gap: pull the missing versions from the store and apply them first, in this transaction.
  for (const auto& missing :
       detail::missing_events(store_, event.stream, core::stream_version{last + 1}, event.version)) {
    projection_.apply(tx, model, missing);
    ++counts.filled;
  }
  projection_.apply(tx, model, event);
  detail::set_applied_version(tx, model, stream, event.version.value());
  counts.applied = counts.filled + 1;
  return counts;
}

apply_counts pg_target::apply(std::span<const core::recorded_event> events, const std::optional<std::string>& model) {
  pqxx::work tx(connection_.get());
  const auto target_model = model ? *model : detail::live_model_in(tx, info().name);
  apply_counts counts;
  for (const auto& event : events) counts += apply_one(tx, target_model, event);
  tx.commit();
  return counts;
}

void pg_target::force_apply(const core::recorded_event& event) {
  pqxx::work tx(connection_.get());
  const auto model = detail::live_model_in(tx, info().name);
  const auto last = detail::lock_applied_version(tx, model, event.stream.str());
  // Recorded with the change: a retry repeated after a crash before its letter was marked
  // retried finds the event already forced and changes nothing.
  const auto marked = tx.exec_params(
      "INSERT INTO projection_forced_events (model, stream_id, stream_version) VALUES ($1, $2, $3)"
      " ON CONFLICT DO NOTHING",
      model, event.stream.str(), event.version.value());
  if (marked.affected_rows() == 0) return;
  projection_.apply(tx, model, event);
  detail::set_applied_version(tx, model, event.stream.str(), std::max(last, event.version.value()));
  tx.commit();
}

void pg_target::skip(const core::recorded_event& event) {
  pqxx::work tx(connection_.get());
  const auto model = detail::live_model_in(tx, info().name);
  const auto last = detail::lock_applied_version(tx, model, event.stream.str());
  if (event.version.value() <= last) return;
  for (const auto& missing :
       detail::missing_events(store_, event.stream, core::stream_version{last + 1}, event.version)) {
    projection_.apply(tx, model, missing);
  }
  detail::set_applied_version(tx, model, event.stream.str(), event.version.value());
  tx.commit();
}

std::string pg_target::live_model() {
  pqxx::work tx(connection_.get());
  return detail::live_model_in(tx, info().name);
}

void pg_target::switch_live(const std::string& model) {
  pqxx::work tx(connection_.get());
  tx.exec_params("UPDATE projection_live_models SET model = $2, switched_at = now() WHERE projection = $1", info().name,
                 model);
  tx.commit();
}

void pg_target::drop_model(const std::string& model) {
  pqxx::work tx(connection_.get());
  projection_.drop_model(tx, model);
  tx.exec_params("DELETE FROM projection_stream_versions WHERE model = $1", model);
  tx.exec_params("DELETE FROM projection_forced_events WHERE model = $1", model);
  tx.commit();
}

core::stream_version pg_target::applied_version(const core::stream_id& stream) {
  pqxx::work tx(connection_.get());
  const auto model = detail::live_model_in(tx, info().name);
  const auto rows = tx.exec_params("SELECT version FROM projection_stream_versions WHERE model = $1 AND stream_id = $2",
                                   model, stream.str());
  return core::stream_version{rows.empty() ? 0 : rows[0][0].as<std::int64_t>()};
}

}  // namespace cqrs::projections
