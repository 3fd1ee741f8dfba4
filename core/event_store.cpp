#include "core/event_store.hpp"

#include <algorithm>
#include <string_view>
#include <unordered_set>

#include <fmt/format.h>
#include <pqxx/except>
#include <pqxx/nontransaction>
#include <pqxx/stream_from>
#include <pqxx/transaction>

#include "core/commit_notifier.hpp"
#include "core/event_store_sql.hpp"
#include "core/upcasting.hpp"

namespace cqrs::core {

namespace {

std::vector<event_id> ids_for(const std::vector<new_event>& events) {
  std::vector<event_id> ids;
  ids.reserve(events.size());
  for (const auto& event : events) ids.push_back(event.id ? *event.id : event_id::generate());
  return ids;
}

}  // namespace

event_store::event_store(store_options options)
    : options_(std::move(options)), connection_(options_.url, detail::prepare_statements, options_.retry) {}

event_store::~event_store() = default;

template <typename T>
T event_store::read_only(const std::function<T(pqxx::transaction_base&)>& query) {
  std::optional<T> answer;
  connection_.run(statement_effect::none_on_failure, [&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    answer = query(tx);
  });
  return std::move(*answer);
}

result<append_success> event_store::append(const append_request& request) {
  if (auto invalid = check_append(request, options_.limits)) return *invalid;
  const auto ids = ids_for(request.events);
  std::optional<result<append_success>> outcome;
  try {
    // Autocommit: the statement is the transaction, so a reply lost in flight is in doubt.
    connection_.run(statement_effect::may_have_committed, [&](pqxx::connection_base& c) {
      pqxx::nontransaction tx(c);
      outcome = detail::exec_append(tx, request, ids);
    });
  } catch (const store_error& failure) {
    if (auto duplicate = detail::as_duplicate(failure)) return *duplicate;
    throw;
  }
  if (outcome->ok() && options_.notifier != nullptr) options_.notifier->committed();
  return std::move(*outcome);
}

bool event_store::groupable(const append_request& request) {
  const auto form = request.expected.kind();
  return request.events.size() == 1 && !request.snapshot &&
         (form == expected_version::form::exact || form == expected_version::form::no_stream);
}

std::vector<std::optional<append_success>> event_store::append_group(const std::vector<const append_request*>& requests) {
  std::vector<std::optional<append_success>> out(requests.size());
  // The members, in stream order (see exec_append_group), each stream once.
  std::vector<std::size_t> members;
  std::unordered_set<std::string_view> streams;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const auto& request = *requests[i];
    if (!groupable(request) || check_append(request, options_.limits)) continue;
    if (streams.insert(request.stream.str()).second) members.push_back(i);
  }
  if (members.empty()) return out;
  std::sort(members.begin(), members.end(),
            [&](std::size_t a, std::size_t b) { return requests[a]->stream.str() < requests[b]->stream.str(); });
  std::vector<const append_request*> ordered;
  std::vector<event_id> ids;
  for (const auto i : members) {
    ordered.push_back(requests[i]);
    ids.push_back(ids_for(requests[i]->events).front());
  }
  std::vector<std::optional<append_success>> written;
  connection_.run(statement_effect::may_have_committed, [&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    written = detail::exec_append_group(tx, ordered, ids);
  });
  bool any = false;
  for (std::size_t k = 0; k < members.size(); ++k) {
    any = any || written[k].has_value();
    out[members[k]] = std::move(written[k]);
  }
  if (any && options_.notifier != nullptr) options_.notifier->committed();
  return out;
}

result<append_success> event_store::append(const stream_id& stream, expected_version expected,
                                           std::vector<new_event> events, event_metadata metadata) {
  return append(append_request{stream, expected, std::move(events), std::move(metadata), std::nullopt, std::nullopt});
}

namespace {

// A request list append_streams refuses before sending anything: a stream twice, or more than
// one append's worth of events or payload in all.
std::optional<error> check_streams(const std::vector<append_request>& requests, const store_limits& limits) {
  std::unordered_set<std::string_view> streams;
  std::size_t events = 0;
  std::size_t bytes = 0;
  for (const auto& request : requests) {
    if (!streams.insert(request.stream.str()).second) {
      return make_error(errc::invalid_stream_id, fmt::format("stream {} is named twice", request.stream.str()));
    }
    events += request.events.size();
    for (const auto& event : request.events) bytes += event.payload.size();
  }
  if (events > limits.max_events_per_append) {
    return make_error(errc::too_many_events, fmt::format("{} events in all, over the limit of {}", events,
                                                         limits.max_events_per_append));
  }
  if (bytes > limits.max_append_bytes) {
    return make_error(errc::append_too_large,
                      fmt::format("{} payload bytes in all, over the limit of {}", bytes, limits.max_append_bytes));
  }
  return std::nullopt;
}

}  // namespace

result<std::vector<append_success>> event_store::append_streams(const std::vector<append_request>& requests) {
  for (const auto& request : requests) {
    if (auto invalid = check_append(request, options_.limits)) return *invalid;
  }
  if (auto invalid = check_streams(requests, options_.limits)) return *invalid;
  if (requests.empty()) return std::vector<append_success>{};
  std::vector<std::size_t> order(requests.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return requests[a].stream.str() < requests[b].stream.str(); });
  std::optional<result<std::vector<append_success>>> outcome;
  // Nothing commits before tx.commit(); a lost commit reply raises in_doubt, which is not retried.
  connection_.run(statement_effect::none_on_failure, [&](pqxx::connection_base& c) {
    pqxx::work tx(c);
    std::vector<append_success> written(requests.size());
    for (const auto i : order) {
      auto appended = append_in(tx, requests[i]);
      if (!appended) {
        outcome = appended.error();
        return;  // rolled back by tx's destructor
      }
      written[i] = std::move(appended).value();
    }
    tx.commit();
    outcome = std::move(written);
  });
  if (outcome->ok() && options_.notifier != nullptr) options_.notifier->committed();
  return std::move(*outcome);
}

result<append_success> event_store::append_in(pqxx::transaction_base& tx, const append_request& request) {
  if (auto invalid = check_append(request, options_.limits)) return *invalid;
  try {
    detail::prepare_append(tx.conn());
    return detail::exec_append(tx, request, ids_for(request.events));
  } catch (...) {
    // Inside an explicit transaction nothing commits before the caller's commit.
    const store_error failure = detail::to_store_error(std::current_exception(), statement_effect::none_on_failure);
    if (auto duplicate = detail::as_duplicate(failure)) return *duplicate;
    throw failure;
  }
}

result<stream_batch> event_store::read_stream(const stream_id& stream, stream_version from, std::size_t batch,
                                              std::optional<timestamp> until) {
  if (auto invalid = check_batch_size(batch, options_.limits)) return *invalid;
  const detail::stream_query query{stream.str(), std::max(from, stream_version{1}), batch, until};
  stream_batch out{read_only<std::vector<recorded_event>>(
                       [&](pqxx::transaction_base& tx) { return detail::exec_read_stream(tx, query); }),
                   query.from};
  if (!out.events.empty()) out.next = stream_version{out.events.back().version.value() + 1};
  upcast(out.events);
  return out;
}

result<log_batch> event_store::read_all(log_position after, std::size_t batch, std::optional<timestamp> until) {
  return read_log(std::nullopt, after, batch, until);
}

result<log_batch> event_store::read_category(std::string_view category, log_position after, std::size_t batch,
                                             std::optional<timestamp> until) {
  return read_log(category, after, batch, until);
}

result<log_batch> event_store::read_log(std::optional<std::string_view> category, log_position after,
                                        std::size_t batch, std::optional<timestamp> until) {
  if (category && !is_valid_category(*category)) {
    return make_error(errc::invalid_category, "category must be [A-Za-z][A-Za-z0-9_]*");
  }
  if (auto invalid = check_batch_size(batch, options_.limits)) return *invalid;
  const detail::log_query query{category ? std::optional<std::string>(*category) : std::nullopt, after, batch, until};
  log_batch out{read_only<std::vector<recorded_event>>(
                    [&](pqxx::transaction_base& tx) { return detail::exec_read_log(tx, query); }),
                after};
  if (!out.events.empty()) out.next = out.events.back().position;
  upcast(out.events);
  return out;
}

result<stream_version> event_store::for_each_stream_batch(const stream_id& stream, stream_version from,
                                                          std::size_t batch, const stream_handler& handler,
                                                          std::optional<timestamp> until) {
  for (;;) {
    auto next = read_stream(stream, from, batch, until);
    if (!next) return next.error();
    if (next.value().events.empty()) return from;
    handler(next.value());
    from = next.value().next;
  }
}

result<log_position> event_store::for_each_log_batch(std::optional<std::string_view> category, log_position after,
                                                     std::size_t batch, const log_handler& handler,
                                                     std::optional<timestamp> until) {
  for (;;) {
    auto next = read_log(category, after, batch, until);
    if (!next) return next.error();
    if (next.value().events.empty()) return after;
    handler(next.value());
    after = next.value().next;
  }
}

result<log_position> event_store::copy_log(std::optional<std::string_view> category, log_position after,
                                           std::size_t batch, const log_handler& handler,
                                           std::optional<timestamp> until) {
  if (category && !is_valid_category(*category)) {
    return make_error(errc::invalid_category, "category must be [A-Za-z][A-Za-z0-9_]*");
  }
  if (auto invalid = check_batch_size(batch, options_.limits)) return *invalid;
  const detail::log_query query{category ? std::optional<std::string>(*category) : std::nullopt, after, batch, until};
  log_batch out{{}, after};
  out.events.reserve(batch);
  const auto deliver = [&] {
    upcast(out.events);
    out.next = out.events.back().position;
    handler(out);
    out.events.clear();
  };
  try {
    pqxx::nontransaction tx(connection_.get());
    pqxx::stream_from copy(tx, "(" + detail::copy_log_sql(query) + ")");
    std::string line;
    while (copy.get_raw_line(line)) {
      out.events.push_back(detail::decode_copy_line(line));
      if (out.events.size() == batch) deliver();
    }
    copy.complete();
    if (!out.events.empty()) deliver();
  } catch (...) {
    // A stream left open (the handler stopped it, or the server failed) makes the connection unusable.
    connection_.reset();
    const auto failure = std::current_exception();
    try {
      std::rethrow_exception(failure);
    } catch (const pqxx::failure&) {
      throw detail::to_store_error(failure, statement_effect::none_on_failure);
    }
  }
  return out.next;
}

stream_version event_store::current_version(const stream_id& stream) {
  return read_only<stream_version>([&](pqxx::transaction_base& tx) { return detail::exec_stream_version(tx, stream.str()); });
}

log_position event_store::safe_head() {
  return read_only<log_position>([](pqxx::transaction_base& tx) { return detail::exec_safe_head(tx); });
}

xmin_lag event_store::measure_xmin_lag() {
  return read_only<xmin_lag>([](pqxx::transaction_base& tx) { return detail::exec_xmin_lag(tx); });
}

std::optional<snapshot> event_store::latest_snapshot(const stream_id& stream) {
  return read_only<std::optional<snapshot>>(
      [&](pqxx::transaction_base& tx) { return detail::exec_latest_snapshot(tx, stream.str()); });
}

std::optional<command_outcome> event_store::find_command_outcome(std::string_view idempotency_key) {
  return read_only<std::optional<command_outcome>>(
      [&](pqxx::transaction_base& tx) { return detail::exec_find_outcome(tx, idempotency_key); });
}

result<bool> event_store::record_outcome(const command_outcome_write& outcome, const stream_id& stream,
                                         stream_version decided_at) {
  if (auto invalid = check_outcome(outcome, options_.limits)) return *invalid;
  bool stored = false;
  connection_.run(statement_effect::may_have_committed, [&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    stored = detail::exec_record_outcome(tx, outcome, stream.str(), decided_at);
  });
  return stored;
}

void event_store::upcast(std::vector<recorded_event>& events) const {
  if (options_.upcasters == nullptr) return;
  for (auto& event : events) {
    event.schema_version = options_.upcasters->upcast(event.type, event.schema_version, event.payload);
  }
}

}  // namespace cqrs::core
