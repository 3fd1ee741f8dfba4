#include "projections/pg_target.hpp"

#include "core/pg_arrays.hpp"

#include <algorithm>
#include <stdexcept>
#include <unordered_map>

#include <pqxx/pqxx>

namespace cqrs::projections {

namespace detail {

namespace {

constexpr const char* live_model_sql = "SELECT model FROM projection_live_models WHERE projection = $1 FOR SHARE";
// Insert-then-lock: two first applies of a new stream serialise on the row instead of both
// seeing "none" and applying twice. The caller sorts the array: inserting in stream order, as the
// lock below locks, keeps two batches' waits one-directional.
constexpr const char* insert_versions_sql =
    "INSERT INTO projection_stream_versions (model, stream_id, version) "
    "SELECT $1, s, 0 FROM unnest($2::text[]) AS s ON CONFLICT DO NOTHING";
constexpr const char* lock_versions_sql =
    "SELECT stream_id, version FROM projection_stream_versions WHERE model = $1 AND stream_id = ANY($2::text[]) "
    "ORDER BY stream_id FOR UPDATE";
constexpr const char* set_versions_sql =
    "UPDATE projection_stream_versions v SET version = n.version "
    "FROM unnest($2::text[], $3::bigint[]) AS n(stream_id, version) WHERE v.model = $1 AND v.stream_id = n.stream_id";

}  // namespace

void prepare_target_statements(pqxx::connection_base& connection) {
  connection.prepare("cqrs_pv_live_model", live_model_sql);
  connection.prepare("cqrs_pv_insert_versions", insert_versions_sql);
  connection.prepare("cqrs_pv_lock_versions", lock_versions_sql);
  connection.prepare("cqrs_pv_set_versions", set_versions_sql);
}

std::string live_model_in(pqxx::transaction_base& tx, const std::string& projection) {
  const auto rows = tx.exec_prepared("cqrs_pv_live_model", projection);
  if (rows.empty()) throw std::runtime_error("projection " + projection + " has no live model row");
  return rows[0][0].as<std::string>();
}

stream_versions lock_applied_versions(pqxx::transaction_base& tx, const std::string& model,
                                      std::vector<std::string> streams) {
  std::sort(streams.begin(), streams.end());
  streams.erase(std::unique(streams.begin(), streams.end()), streams.end());
  const auto ids = core::pg_array(streams);
  tx.exec_prepared("cqrs_pv_insert_versions", model, ids);
  const auto rows = tx.exec_prepared("cqrs_pv_lock_versions", model, ids);
  if (rows.size() != streams.size()) throw std::runtime_error("stream version rows vanished while being locked");
  stream_versions versions;
  versions.reserve(rows.size());
  for (const auto& row : rows) versions.emplace_back(row[0].as<std::string>(), row[1].as<std::int64_t>());
  return versions;
}

void set_applied_versions(pqxx::transaction_base& tx, const std::string& model, const stream_versions& versions) {
  if (versions.empty()) return;
  std::vector<std::string> streams;
  std::vector<std::int64_t> numbers;
  for (const auto& [stream, version] : versions) streams.push_back(stream), numbers.push_back(version);
  tx.exec_prepared("cqrs_pv_set_versions", model, core::pg_array(streams), core::pg_array(numbers));
}

}  // namespace detail

namespace {

// The open connection, after dropping one the server closed while idle (a restart, an idle
// timeout): its goodbye shows in what the server sent since the last statement (two reads to see
// it whole), so the transaction begins on a live session instead of failing its first statement
// and costing the projector a cut-off model and a catch-up after every PostgreSQL restart.
pqxx::connection_base& live(core::pg_connection& connection) {
  if (connection.is_open()) {
    try {
      auto& open = connection.get();
      open.get_notifs();
      open.get_notifs();
      if (open.is_open()) return open;
    } catch (const std::exception&) {
    }
    connection.reset();
  }
  return connection.get();
}

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

std::vector<std::string> stream_ids(std::span<const core::recorded_event> events) {
  std::vector<std::string> ids;
  ids.reserve(events.size());
  for (const auto& event : events) ids.push_back(event.stream.str());
  return ids;
}

// What the batch does once its streams' applied versions are locked, decided in memory exactly as
// event by event: an event at or below its stream's applied version is a duplicate; one beyond
// applied + 1 first takes the missing versions from the event store. Versions advance as events
// are taken, so a batch that repeats or overtakes itself counts as its events one at a time would.
class batch_plan {
 public:
  batch_plan(core::event_store& store, std::span<const core::recorded_event> batch,
             const detail::stream_versions& locked)
      : store_(store), batch_(batch) {
    for (const auto& [stream, version] : locked) streams_.emplace(stream, versions{version, version});
    for (const auto& event : batch) take(event);
  }

  // The events that take effect, in batch order, each gap's fill just before its event.
  std::span<const core::recorded_event> events() const {
    if (copied_) return owned_;
    return batch_.first(prefix_);
  }

  detail::stream_versions advanced() const {
    detail::stream_versions out;
    for (const auto& [stream, v] : streams_) {
      if (v.applied != v.locked) out.emplace_back(stream, v.applied);
    }
    return out;
  }

  const apply_counts& counts() const { return counts_; }

 private:
  struct versions {
    std::int64_t locked = 0;
    std::int64_t applied = 0;
  };

  void take(const core::recorded_event& event) {
    auto& stream = streams_.at(event.stream.str());
    if (event.version.value() <= stream.applied) {
      ++counts_.duplicates;
      stop_sharing();
      return;
    }
    auto missing =
        detail::missing_events(store_, event.stream, core::stream_version{stream.applied + 1}, event.version);
    if (!missing.empty()) stop_sharing();
    counts_.filled += missing.size();
    counts_.applied += missing.size() + 1;
    for (auto& fill : missing) owned_.push_back(std::move(fill));
    if (copied_) {
      owned_.push_back(event);
    } else {
      ++prefix_;
    }
    stream.applied = event.version.value();
  }

  // The usual batch takes effect whole and is handed over as it came; only a duplicate or a gap
  // costs a copy of the events.
  void stop_sharing() {
    if (copied_) return;
    owned_.assign(batch_.begin(), batch_.begin() + static_cast<std::ptrdiff_t>(prefix_));
    copied_ = true;
  }

  core::event_store& store_;
  std::span<const core::recorded_event> batch_;
  std::size_t prefix_ = 0;  // while not copied_: the batch's first prefix_ events all take effect
  bool copied_ = false;
  std::vector<core::recorded_event> owned_;
  std::unordered_map<std::string, versions> streams_;
  apply_counts counts_;
};

}  // namespace

std::unique_ptr<model_builder> pg_target::start_build(const std::string& model) {
  auto fold = projection_.start_fold();
  if (!fold) return nullptr;
  return std::make_unique<pg_builder>(connection_, model, std::move(fold));
}

pg_target::pg_target(std::string url, core::event_store& store, const pg_projection& projection)
    : connection_(std::move(url),
                  [&projection](pqxx::connection_base& connection) {
                    detail::prepare_target_statements(connection);
                    projection.prepare(connection);
                  }),
      store_(store),
      projection_(projection) {
  ensure_live_row();
}

void pg_target::ensure_live_row() {
  pqxx::work tx(connection_.get());
  tx.exec_params("INSERT INTO projection_live_models (projection, model) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                 info().name, info().initial_model());
  tx.commit();
}

// A failure here is an exception the projector judges (projector.hpp): a lost connection or a
// commit in doubt is outlived, as applying again re-reads the locked applied versions, so an
// event committed before the reply was lost counts as a duplicate the second time.
apply_counts pg_target::apply(std::span<const core::recorded_event> events, const std::optional<std::string>& model) {
  if (events.empty()) return {};
  pqxx::work tx(live(connection_));
  const auto target_model = model ? *model : detail::live_model_in(tx, info().name);
  batch_plan plan(store_, events, detail::lock_applied_versions(tx, target_model, stream_ids(events)));
  if (!plan.events().empty()) projection_.apply_batch(tx, target_model, plan.events());
  detail::set_applied_versions(tx, target_model, plan.advanced());
  tx.commit();
  return plan.counts();
}

void pg_target::force_apply(const core::recorded_event& event) {
  pqxx::work tx(live(connection_));
  const auto model = detail::live_model_in(tx, info().name);
  const auto& stream = event.stream.str();
  const auto last = detail::lock_applied_versions(tx, model, {stream}).front().second;
  // Recorded with the change: a retry repeated after a crash before its letter was marked
  // retried finds the event already forced and changes nothing.
  const auto marked = tx.exec_params(
      "INSERT INTO projection_forced_events (model, stream_id, stream_version) VALUES ($1, $2, $3)"
      " ON CONFLICT DO NOTHING",
      model, stream, event.version.value());
  if (marked.affected_rows() == 0) return;
  projection_.apply(tx, model, event);
  detail::set_applied_versions(tx, model, {{stream, std::max(last, event.version.value())}});
  tx.commit();
}

void pg_target::skip(const core::recorded_event& event) {
  pqxx::work tx(live(connection_));
  const auto model = detail::live_model_in(tx, info().name);
  const auto& stream = event.stream.str();
  const auto last = detail::lock_applied_versions(tx, model, {stream}).front().second;
  if (event.version.value() <= last) return;
  const auto missing = detail::missing_events(store_, event.stream, core::stream_version{last + 1}, event.version);
  if (!missing.empty()) projection_.apply_batch(tx, model, missing);
  detail::set_applied_versions(tx, model, {{stream, event.version.value()}});
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
