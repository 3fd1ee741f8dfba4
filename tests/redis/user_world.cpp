#include "tests/redis/user_world.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <pqxx/pqxx>

#include "schemas/contracts/catalog.hpp"
#include "schemas/contracts/user/user_codec.hpp"
#include "tests/redis/projection_fixture.hpp"
#include "tests/support/stack.hpp"

namespace cqrs::tests {

user_world::user_world(const std::string& prefix)
    : scope_(prefix + "_" + run_id()),
      category_(scope_.category("user")),
      detail_name_(scope_.projection("user_detail")),
      list_name_(scope_.projection("user_admin_list")) {
  schemas::register_upcasters(upcasters_);
  core::store_options options;
  options.url = pg_url();
  options.upcasters = &upcasters_;
  store_ = std::make_unique<core::event_store>(options);
  redis_ = std::make_unique<projections::redis_client>(redis_url());
  projections_ = projections::default_projections(scope_);
  targets_ = std::make_unique<projections::target_set>(projections_, *redis_, *store_, pg_url());
}

core::stream_id user_world::stream(const std::string& id) const {
  return core::stream_id::parse(category_ + "-" + id).value();
}

std::vector<core::recorded_event> user_world::append(const std::string& id,
                                                     const std::vector<schemas::user_event>& events) {
  std::vector<core::new_event> batch;
  for (const auto& event : events) {
    auto encoded = schemas::encode(event);
    batch.push_back({encoded.type, encoded.schema_version, encoded.data, std::nullopt});
  }
  const auto before = store_->current_version(stream(id));
  (void)store_->append(stream(id), core::expected_version::any(), std::move(batch)).value();
  std::vector<core::recorded_event> added;
  (void)store_
      ->for_each_stream_batch(stream(id), core::stream_version{before.value() + 1}, 100,
                              [&](const core::stream_batch& b) { added.insert(added.end(), b.events.begin(), b.events.end()); })
      .value();
  return added;
}

void user_world::project(const std::string& id, const std::vector<schemas::user_event>& events) {
  const auto stored = append(id, events);
  detail().apply(stored);
  list().apply(stored);
}

std::optional<projections::user::user_fields> user_world::detail_of(const std::string& id) {
  return projections::user::read_user_detail(*redis_, id, detail_name_);
}

std::vector<projections::user::admin_list_row> user_world::page(projections::user::admin_list_query q) {
  q.projection = list_name_;
  pqxx::connection connection(pg_url());
  pqxx::work tx(connection);
  return projections::user::query_admin_list(tx, q);
}

std::string user_world::digest(const std::vector<std::string>& ids) {
  std::string text;
  for (const auto& id : ids) {
    const auto fields = detail_of(id);
    text += id + (fields ? "\n" : " missing\n");
    if (fields) {
      for (const auto& [k, v] : *fields) text += fmt::format("  {}={}\n", k, v);
    }
  }
  projections::user::admin_list_query all;
  all.limit = 1000;
  for (const auto& row : page(all)) {
    text += fmt::format("row {} {} {} {} {} {}\n", row.user_id, fmt::join(row.roles, ","), row.status, row.created_at,
                        row.email_index, row.version);
  }
  return text;
}

}  // namespace cqrs::tests
