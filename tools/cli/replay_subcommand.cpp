// cqrs replay: stored history as JSON lines (or a table for people), read from the event store in
// batches, so memory stays one batch whatever the history's size.

#include <cstdio>
#include <iostream>
#include <optional>

#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include "core/event_store.hpp"
#include "core/upcasting.hpp"
#include "projections/history.hpp"
#include "schemas/contracts/catalog.hpp"
#include "tools/cli/subcommand.hpp"

namespace cqrs::tools::cli {

namespace {

struct replay_request {
  std::optional<core::stream_id> stream;
  std::optional<std::string> category;   // empty optional with no stream: the whole log
  core::log_position after;              // exclusive
  std::optional<core::log_position> to;  // inclusive
  std::optional<core::timestamp> until;
  bool table = false;
  std::size_t batch = 1000;
};

// Thrown by the batch handler once past --to-position: the store's documented way to stop.
struct reached_end {};

core::log_position position_flag(const core::settings_source& source, const char* env) {
  const auto token = core::log_position::parse(source.text(env, ""));
  if (!token.ok()) throw core::config_error(env, "is not a log position (32 hex digits)");
  return token.value();
}

// The position just before `p` in log order: nothing can lie between the two.
core::log_position just_before(core::log_position p) {
  if (p.is_beginning()) return p;
  return p.seq() > 0 ? core::log_position(p.xid(), p.seq() - 1) : core::log_position(p.xid() - 1, UINT64_MAX);
}

void read_scope(const core::settings_source& source, replay_request& request) {
  const auto stream = source.raw("CQRS_STREAM");
  const auto category = source.raw("CQRS_CATEGORY");
  const bool all = source.boolean("CQRS_ALL", false);
  if (static_cast<int>(stream.has_value()) + static_cast<int>(category.has_value()) + static_cast<int>(all) != 1) {
    throw core::config_error("command line", "give exactly one of --stream S, --category C, --all");
  }
  if (stream) {
    auto parsed = core::stream_id::parse(*stream);
    if (!parsed.ok()) throw core::config_error("CQRS_STREAM", parsed.error().detail);
    request.stream = parsed.value();
  }
  if (category && !core::is_valid_category(*category)) throw core::config_error("CQRS_CATEGORY", "is not a category");
  request.category = category;
}

replay_request read_request(const core::settings_source& source) {
  replay_request request;
  read_scope(source, request);
  if (source.raw("CQRS_FROM_POSITION")) request.after = just_before(position_flag(source, "CQRS_FROM_POSITION"));
  if (source.raw("CQRS_TO_POSITION")) request.to = position_flag(source, "CQRS_TO_POSITION");
  if (const auto until = source.raw("CQRS_UNTIL")) {
    request.until = projections::parse_timestamp(*until);
    if (!request.until) throw core::config_error("CQRS_UNTIL", "is not a time like 2026-01-31T12:00:00Z");
  }
  const auto format = source.text("CQRS_FORMAT", "json");
  if (format != "json" && format != "table") throw core::config_error("CQRS_FORMAT", "must be json or table");
  request.table = format == "table";
  request.batch = static_cast<std::size_t>(source.integer("CQRS_BATCH_SIZE", 1000, 1, 10000));
  return request;
}

class printer {
 public:
  explicit printer(bool table) : table_(table) {
    if (table_)
      std::fputs(fmt::format("{:<32}  {:<40}  {:>7}  {:<30}  {:<27}  data\n", "position", "stream", "version", "type",
                             "recorded_at")
                     .c_str(),
                 stdout);
  }
  void print(const core::recorded_event& event) {
    auto json = projections::event_to_json(event);
    std::string line =
        table_ ? fmt::format("{:<32}  {:<40}  {:>7}  {:<30}  {:<27}  {}\n", event.position.token(), event.stream.str(),
                             event.version.value(), event.type, projections::format_timestamp(event.recorded_at),
                             boost::json::serialize(json["data"]))
               : boost::json::serialize(json) + "\n";
    std::fwrite(line.data(), 1, line.size(), stdout);
    ++count_;
  }
  std::uint64_t count() const { return count_; }

 private:
  bool table_;
  std::uint64_t count_ = 0;
};

bool in_range(const replay_request& request, const core::recorded_event& event) {
  return event.position > request.after && (!request.to || event.position <= *request.to);
}

int replay_stream(core::event_store& store, const replay_request& request, printer& out) {
  if (store.current_version(*request.stream).value() == 0) {
    std::cerr << fmt::format("cqrs replay: stream '{}' does not exist\n", request.stream->str());
    return 1;
  }
  const auto end = store.for_each_stream_batch(
      *request.stream, core::stream_version{1}, request.batch,
      [&](const core::stream_batch& batch) {
        for (const auto& e : batch.events) {
          if (in_range(request, e)) out.print(e);
        }
      },
      request.until);
  if (!end.ok()) throw std::runtime_error(end.error().detail);
  return 0;
}

int replay_log(core::event_store& store, const replay_request& request, printer& out) {
  std::optional<std::string_view> category;
  if (request.category) category = *request.category;
  try {
    const auto end = store.for_each_log_batch(
        category, request.after, request.batch,
        [&](const core::log_batch& batch) {
          for (const auto& e : batch.events) {
            if (request.to && e.position > *request.to) throw reached_end{};
            out.print(e);
          }
        },
        request.until);
    if (!end.ok()) throw std::runtime_error(end.error().detail);
  } catch (const reached_end&) {
  }
  return 0;
}

int run_replay(const core::settings_source& source) {
  const auto request = read_request(source);
  core::upcaster_registry upcasters;
  schemas::register_upcasters(upcasters);
  core::store_options options;
  options.url = source.url("CQRS_PG_URL", "", {"postgresql", "postgres"});
  options.upcasters = &upcasters;
  core::event_store store(options);
  printer out(request.table);
  const int status = request.stream ? replay_stream(store, request, out) : replay_log(store, request, out);
  std::fflush(stdout);
  return status;
}

}  // namespace

subcommand replay_subcommand() {
  return {"replay",
          "print stored events as JSON lines (or a table): one stream, a category or the whole log",
          {{"CQRS_PG_URL", "", "PostgreSQL connection URL"},
           {"CQRS_STREAM", "", "replay this stream (category-id)", core::spec_kind::option},
           {"CQRS_CATEGORY", "", "replay this category, in log order", core::spec_kind::option},
           {"CQRS_ALL", "", "replay the whole log", core::spec_kind::flag},
           {"CQRS_FROM_POSITION", "", "first log position to print (inclusive, 32 hex digits)", core::spec_kind::option},
           {"CQRS_TO_POSITION", "", "last log position to print (inclusive)", core::spec_kind::option},
           {"CQRS_UNTIL", "", "only events recorded at or before this time (2026-01-31T12:00:00Z)", core::spec_kind::option},
           {"CQRS_FORMAT", "json", "json (one object per line) or table", core::spec_kind::option},
           {"CQRS_BATCH_SIZE", "1000", "events per read, 1..10000", core::spec_kind::option}},
          run_replay};
}

}  // namespace cqrs::tools::cli
