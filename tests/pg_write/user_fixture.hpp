#pragma once

// Helpers of the User tests in the pg_write suite: user streams and blind indexes unique to this
// run, registrations, outcomes, running commands concurrently on their own connections, and a
// private database for the tests of the admins set (a set of the whole database, so those tests
// must not share it with other runs' admins).

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "commands/user/user_pipeline.hpp"
#include "core/event_store.hpp"

namespace cqrs::tests::write {

// `user-<run id>_<name>`.
core::stream_id user_stream(std::string_view name);
// 64 lowercase hex digits, the same for the same name within a run, different across runs.
schemas::blind_index unique_index(std::string_view name);

schemas::register_user new_user(const schemas::blind_index& index);

bool is_accepted(const commands::user::user_outcome& outcome);
bool refused_with(const commands::user::user_outcome& outcome, commands::user::errc code);

// Runs each command at once (all released together by a latch), each on its own store and
// pipeline connected to `url`, and returns the outcomes in the same order.
std::vector<commands::user::user_outcome> run_concurrently(const std::string& url,
                                                           const std::vector<commands::user::user_envelope>& commands);

// A store on `url` (by default CQRS_PG_URL).
std::unique_ptr<core::event_store> make_store_on(const std::string& url);

// A database of its own, created once per process with every migration applied: its URL.
const std::string& private_database_url();

// The stream ids holding claims of `scope`, sorted.
std::vector<std::string> claim_holders(const std::string& url, std::string_view scope);

}  // namespace cqrs::tests::write
