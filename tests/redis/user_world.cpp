#include "tests/redis/user_world.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <pqxx/pqxx>

#include "schemas/contracts/catalog.hpp"
#include "schemas/contracts/user/user_codec.hpp"
#include "tests/redis/projection_fixture.hpp"
#include "tests/redis/world_support.hpp"
#include "tests/support/stack.hpp"

namespace cqrs::tests {

user_world::user_world(const std::string& prefix)
    : scope_(prefix + "_" + run_id()),
      category_(scope_.category("user")),
      detail_name_(scope_.projection("user_detail")),
      list_name_(scope_.projection("user_admin_list")) {
  open_world(scope_, upcasters_, store_, redis_, projections_, targets_);
}

core::stream_id user_world::stream(const std::string& id) const {
  return core::stream_id::parse(category_ + "-" + id).value();
}

std::vector<core::recorded_event> user_world::append(const std::string& id,
                                                     const std::vector<schemas::user_event>& events) {
  return append_any_version(*store_, stream(id), events);
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
