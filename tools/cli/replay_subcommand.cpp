// cqrs replay: stored history as JSON lines (or a table for people), read from the event store in
// batches (a category or the whole log: one COPY stream, then batches for what came since), so
// memory stays one batch and one output buffer whatever the history's size.

#include <cstdio>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <string_view>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/serializer.hpp>
#include <fmt/format.h>

#include "core/event_store.hpp"
#include "core/upcasting.hpp"
#include "projections/history.hpp"
#include "schemas/contracts/catalog.hpp"
#include "tools/cli/erased_fields.hpp"
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

void append_json_string(std::string& out, std::string_view text) {
  // Boost.JSON's escaping, so that lines read the same as before: quote, backslash and control
  // characters only (b f n r t, else \u00xx), everything else as is.
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t plain = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(text.substr(plain, i - plain));
    plain = i + 1;
    out.push_back('\\');
    switch (c) {
      case '"': out.push_back('"'); break;
      case '\\': out.push_back('\\'); break;
      case '\b': out.push_back('b'); break;
      case '\f': out.push_back('f'); break;
      case '\n': out.push_back('n'); break;
      case '\r': out.push_back('r'); break;
      case '\t': out.push_back('t'); break;
      default:
        out.append("u00");
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 15]);
    }
  }
  out.append(text.substr(plain));
  out.push_back('"');
}

void append_json(std::string& out, const boost::json::value& value) {
  boost::json::serializer writer;
  writer.reset(&value);
  char chunk[4096];
  while (!writer.done()) out.append(writer.read(chunk, sizeof chunk));
}

// Whether two JSON values have the same keys in the same order and the same kinds of values
// (strings, integers, ... ; nested objects alike), whatever the values themselves.
bool same_shape(const boost::json::value& a, const boost::json::value& b) {
  if (a.kind() != b.kind()) return false;
  if (a.is_array()) return false;  // not learned: lengths and element kinds vary
  if (!a.is_object()) return true;
  const auto& x = a.get_object();
  const auto& y = b.get_object();
  if (x.size() != y.size()) return false;
  for (auto i = x.begin(), j = y.begin(); i != x.end(); ++i, ++j) {
    if (i->key() != j->key() || !same_shape(i->value(), j->value())) return false;
  }
  return true;
}

// The "data" of a line: the payload decoded through its contract and upcast, as JSON
// (projections::event_to_json). Decoding with the contract costs ~5 µs an event, so for a
// current-version payload whose JSON has the very shape (keys in order, kinds of values) of one
// the contract already decoded to the same JSON text, the payload is parsed and written as is:
// the contracts are plain data, so the same shape decodes to the same fields. Everything else
// (older versions, unknown types, any other shape) goes through the contract.
class data_writer {
 public:
  data_writer() {
    for (const auto& contract : schemas::event_contracts()) current_[contract.name] = contract.current_version;
  }

  void append(std::string& out, const core::recorded_event& event) {
    const auto known = current_.find(event.type);
    const bool current = known != current_.end() && known->second == event.schema_version;
    unsigned char buffer[8192];
    boost::json::monotonic_resource memory(buffer, sizeof buffer);
    const boost::json::storage_ptr storage(&memory);
    boost::json::value parsed(storage);
    if (current) {
      boost::json::error_code error;
      parsed = boost::json::parse(event.payload, error, storage);
      if (error) parsed = nullptr;
      const auto shape = shapes_.find(event.type);
      if (parsed.is_object() && shape != shapes_.end() && same_shape(shape->second, parsed)) {
        out.append("\"data\":");
        append_json(out, parsed);
        return;
      }
    }
    append_decoded(out, event, current && parsed.is_object() ? &parsed : nullptr);
  }

  // The data of a stream whose personal fields are erased: decoded, its sealed fields replaced.
  void append_erased(std::string& out, const core::recorded_event& event) {
    boost::json::value data;
    try {
      data = schemas::stored_event_to_json(event.type, event.schema_version, event.payload).at("data");
    } catch (const std::exception&) {
      append_decoded(out, event, nullptr);  // says why it cannot be read
      return;
    }
    erased_fields::redact(data);
    out.append("\"data\":");
    append_json(out, data);
  }

 private:
  void append_decoded(std::string& out, const core::recorded_event& event, const boost::json::value* parsed) {
    boost::json::value data;
    try {
      data = schemas::stored_event_to_json(event.type, event.schema_version, event.payload).at("data");
    } catch (const std::exception& e) {
      out.append("\"data\":null,\"error\":");
      append_json_string(out, e.what());
      return;
    }
    const auto start = out.size();
    out.append("\"data\":");
    append_json(out, data);
    if (parsed != nullptr && !shapes_.contains(event.type)) {
      std::string as_stored;
      append_json(as_stored, *parsed);
      if (std::string_view(out).substr(start + 7) == as_stored) shapes_.emplace(event.type, boost::json::value(*parsed, boost::json::storage_ptr()));  // not the parse's buffer
    }
  }

  std::map<std::string, int, std::less<>> current_;
  std::map<std::string, boost::json::value, std::less<>> shapes_;
};

// Lines go into one buffer written out in big blocks.
class printer {
 public:
  printer(bool table, erased_fields& erasure) : table_(table), erasure_(erasure) {
    buffer_.reserve(flush_at + 64 * 1024);
    if (table_)
      buffer_ = fmt::format("{:<32}  {:<40}  {:>7}  {:<30}  {:<27}  data\n", "position", "stream", "version", "type",
                            "recorded_at");
  }
  ~printer() { flush(); }

  void print(const core::recorded_event& event) {
    if (table_) {
      auto json = projections::event_to_json(event);
      if (erasure_.erased(event.stream, event.payload)) erased_fields::redact(json["data"]);
      buffer_ += fmt::format("{:<32}  {:<40}  {:>7}  {:<30}  {:<27}  {}\n", event.position.token(), event.stream.str(),
                             event.version.value(), event.type, projections::format_timestamp(event.recorded_at),
                             boost::json::serialize(json["data"]));
    } else {
      append_line(event);
    }
    ++count_;
    if (buffer_.size() >= flush_at) flush();
  }
  void flush() {
    if (!buffer_.empty()) std::fwrite(buffer_.data(), 1, buffer_.size(), stdout);
    buffer_.clear();
  }
  std::uint64_t count() const { return count_; }

 private:
  static constexpr std::size_t flush_at = 4 << 20;

  // The keys and order of projections::event_to_json, serialized as Boost.JSON does.
  void append_line(const core::recorded_event& event) {
    auto& out = buffer_;
    out.append("{\"position\":\"");
    out.append(event.position.token());
    out.append("\",\"stream\":");
    append_json_string(out, event.stream.str());
    fmt::format_to(std::back_inserter(out), ",\"version\":{},\"event_id\":\"{}\",\"type\":", event.version.value(),
                   event.id.to_string());
    append_json_string(out, event.type);
    fmt::format_to(std::back_inserter(out), ",\"schema_version\":{},\"recorded_at\":\"{}\",\"metadata\":{{",
                   event.schema_version, projections::format_timestamp(event.recorded_at));
    bool first = true;
    const auto field = [&](const char* name, const std::optional<std::string>& value) {
      if (!value) return;
      out.append(first ? "\"" : ",\"");
      out.append(name);
      out.append("\":");
      append_json_string(out, *value);
      first = false;
    };
    field("command_id", event.metadata.command_id);
    field("correlation_id", event.metadata.correlation_id);
    field("causation_id", event.metadata.causation_id);
    field("actor", event.metadata.actor);
    out.append("},");
    if (erasure_.erased(event.stream, event.payload)) {
      data_.append_erased(out, event);
    } else {
      data_.append(out, event);
    }
    out.append("}\n");
  }

  bool table_;
  erased_fields& erasure_;
  std::string buffer_;
  data_writer data_;
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
  const auto print = [&](const core::log_batch& batch) {
    for (const auto& e : batch.events) {
      if (request.to && e.position > *request.to) throw reached_end{};
      out.print(e);
    }
  };
  try {
    // One COPY stream for what is final now, then batches until caught up with what came since.
    auto end = store.copy_log(category, request.after, request.batch, print, request.until);
    if (end.ok()) end = store.for_each_log_batch(category, end.value(), request.batch, print, request.until);
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
  erased_fields erasure(source);
  printer out(request.table, erasure);
  const int status = request.stream ? replay_stream(store, request, out) : replay_log(store, request, out);
  out.flush();
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
           {"CQRS_BATCH_SIZE", "1000", "events per read (and per COPY batch), 1..10000", core::spec_kind::option},
           erased_fields::settings().front()},
          run_replay};
}

}  // namespace cqrs::tools::cli
