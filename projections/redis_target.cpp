#include "projections/redis_target.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>

namespace cqrs::projections {

namespace {

// One call applies a run of events, in order. ARGV: explicit model ('' = live), initial model,
// then each event as: word count w (of the words after it), stream id, version, force ('1'/'0'),
// then each change as: word count n, command, key, n - 2 arguments.
// Returns {pointer made, then per event: status, last applied}: status 0 duplicate, 1 applied,
// 2 gap (nothing changed); pointer made is 1 when the live pointer was missing and this call set
// it (see projection_target::take_live_pointer_made).
// Each event's applied version is written right after its change, not once at the end: should a
// command fail midway, the events before it are done and marked, and a redelivery counts them as
// duplicates instead of applying them twice. The pointer and each stream's applied version are read once per call.
// A forced apply (a dead-letter retry) ignores the applied version, which the skipped event
// already passed, so it is made once-only by its own mark: `<model>:forced` holds
// `<stream>@<version>` for each one done, set in the same script as the change. A retry that
// crashed before marking its letter retried is then a no-op when run again.
constexpr const char* apply_script = R"lua(
local model = ARGV[1]
local made = 0
if model == '' then
  model = redis.call('GET', KEYS[1])
  if not model then
    model = ARGV[2]
    redis.call('SET', KEYS[1], model)
    made = 1
  end
end
local applied = model .. ':applied'
local known = {}
local out = {made}
local i = 3
while i <= #ARGV do
  local stop = i + tonumber(ARGV[i])
  local stream = ARGV[i + 1]
  local version = tonumber(ARGV[i + 2])
  local last = known[stream]
  if last == nil then last = tonumber(redis.call('HGET', applied, stream) or '0') end
  local status = 1
  if ARGV[i + 3] ~= '1' then
    if version <= last then status = 0 elseif version > last + 1 then status = 2 end
  elseif redis.call('HSETNX', model .. ':forced', stream .. '@' .. ARGV[i + 2], '1') == 0 then
    status = 0
  end
  if status == 1 then
    local j = i + 4
    while j <= stop do
      local n = tonumber(ARGV[j])
      local args = {}
      for k = j + 3, j + n do args[#args + 1] = ARGV[k] end
      redis.call(ARGV[j + 1], model .. ':' .. ARGV[j + 2], unpack(args))
      j = j + n + 1
    end
    if version > last then
      redis.call('HSET', applied, stream, ARGV[i + 2])
      last = version
    end
  end
  known[stream] = last
  out[#out + 1] = status
  out[#out + 1] = last
  i = stop + 1
end
return out
)lua";

// The default fold: the projection's own changes() run against an in-memory copy of the model's
// keys, with Redis's semantics for the write commands projections use, and hash fields kept in
// insertion order as Redis keeps them (small hashes), so HGETALL of the result reads the same.
class op_fold final : public redis_fold {
 public:
  explicit op_fold(const redis_projection& projection) : projection_(projection) {}

  void add(const core::recorded_event& event, std::size_t stream) override {
    if (stream >= touched_.size()) touched_.resize(stream + 1);
    current_ = &touched_[stream];
    for (auto& op : projection_.changes(event)) run(std::move(op));
  }

  void emit(const std::function<void(redis_op&&)>& write) override {
    for (auto& [key, value] : keys_) {
      if (!value.exists) continue;
      if (!value.hash) {
        write({"SET", key, {std::move(value.text)}});
        continue;
      }
      redis_op op{"HSET", key, {}};
      op.args.reserve(value.fields.size() * 2);
      for (auto& [field, text] : value.fields) {
        op.args.push_back(std::move(field));
        op.args.push_back(std::move(text));
      }
      write(std::move(op));
    }
    keys_.clear();
    touched_.clear();
  }

 private:
  struct value {
    bool exists = false;
    bool hash = false;
    std::string text;                                         // a string key
    std::vector<std::pair<std::string, std::string>> fields;  // a hash, in insertion order
  };

  [[noreturn]] static void unsupported(const redis_op& op, const char* why) {
    throw std::invalid_argument(fmt::format("bulk fold of {} {}: {} (override start_fold)", op.command, op.key, why));
  }

  using entry = std::pair<const std::string, value>;

  // The key's entry, looked up first among the few keys the current stream touched before (a
  // stream's events mostly write the same keys), then in the table.
  entry& find_or_add(const std::string& key) {
    for (auto* known : *current_) {
      if (known->first == key) return *known;
    }
    auto& found = *keys_.try_emplace(key).first;
    current_->push_back(&found);
    return found;
  }

  value& hash_at(const redis_op& op) {
    auto& [key, v] = find_or_add(op.key);
    if (!v.hash && !v.exists) v.hash = true;
    if (!v.hash) unsupported(op, "WRONGTYPE");
    v.exists = true;
    return v;
  }

  // The field's value, and whether it was created now.
  static std::pair<std::string&, bool> field_of(value& v, std::string_view field) {
    for (auto& [name, text] : v.fields) {
      if (name == field) return {text, false};
    }
    return {v.fields.emplace_back(std::string(field), std::string()).second, true};
  }

  void run(redis_op&& op) {
    if (op.command == "HSET" && op.args.size() % 2 == 0 && !op.args.empty()) {
      auto& v = hash_at(op);
      for (std::size_t i = 0; i < op.args.size(); i += 2) field_of(v, op.args[i]).first = std::move(op.args[i + 1]);
    } else if (op.command == "HINCRBY" && op.args.size() == 2) {
      auto [text, created] = field_of(hash_at(op), op.args[0]);
      std::int64_t current = 0;
      if (!created && !parse_integer(text, current)) unsupported(op, "hash value is not an integer");
      std::int64_t by = 0;
      if (!parse_integer(op.args[1], by)) unsupported(op, "increment is not an integer");
      text = std::to_string(current + by);
    } else if (op.command == "SET" && op.args.size() == 1) {
      find_or_add(op.key).second = value{true, false, std::move(op.args[0]), {}};
    } else if (op.command == "DEL" && op.args.empty()) {
      find_or_add(op.key).second = value{};  // kept in the table (others may point at it), not written
    } else {
      unsupported(op, "command not supported by the default fold");
    }
  }

  static bool parse_integer(const std::string& text, std::int64_t& out) {
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc{} && end == text.data() + text.size();
  }

  const redis_projection& projection_;
  std::unordered_map<std::string, value> keys_;
  std::vector<std::vector<entry*>> touched_;  // per stream: the keys its events wrote
  std::vector<entry*>* current_ = nullptr;
};

// Writes a folded model: its keys and then the applied versions, pipelined in windows of
// commands (one round trip per window, every reply checked).
class redis_builder final : public model_builder {
 public:
  redis_builder(redis_client& client, std::string model, std::unique_ptr<redis_fold> fold)
      : client_(client), model_(std::move(model)), fold_(std::move(fold)) {}

  void add(const core::recorded_event& event, std::size_t stream) override { fold_->add(event, stream); }

  void write(const std::unordered_map<std::string, std::int64_t>& applied) override {
    fold_->emit([&](redis_op&& op) {
      std::vector<std::string> command;
      command.reserve(op.args.size() + 2);
      command.push_back(std::move(op.command));
      command.push_back(model_ + ":" + op.key);
      for (auto& arg : op.args) command.push_back(std::move(arg));
      send(command);
    });
    std::vector<std::string> versions{"HSET", model_ + ":applied"};
    for (const auto& [stream, version] : applied) {
      versions.push_back(stream);
      versions.push_back(std::to_string(version));
      if (versions.size() >= 2 + 2 * fields_per_command) {
        send(versions);
        versions.resize(2);
      }
    }
    if (versions.size() > 2) send(versions);
    drain();
  }

  bool owns_connection() const override { return false; }

 private:
  static constexpr std::size_t window = 4096;
  static constexpr std::size_t fields_per_command = 1000;

  void send(const std::vector<std::string>& command) {
    client_.append(command);
    if (++queued_ == window) drain();
  }

  void drain() {
    std::optional<std::string> failure;
    for (; queued_ > 0; --queued_) {
      const auto reply = client_.read_reply();
      if (reply.is_error() && !failure) failure = reply.text;
    }
    if (failure) throw redis_error("writing the folded model: " + *failure);
  }

  redis_client& client_;
  std::string model_;
  std::unique_ptr<redis_fold> fold_;
  std::size_t queued_ = 0;
};

}  // namespace

std::unique_ptr<redis_fold> redis_projection::start_fold() const { return std::make_unique<op_fold>(*this); }

std::unique_ptr<model_builder> redis_target::start_build(const std::string& model) {
  return std::make_unique<redis_builder>(client_, model, projection_.start_fold());
}

std::string redis_live_pointer_key(std::string_view projection) {
  return fmt::format("cqrs:projection:{}:live", projection);
}

redis_target::redis_target(redis_client& client, core::event_store& store, const redis_projection& projection)
    : client_(client),
      store_(store),
      projection_(projection),
      script_(apply_script),
      pointer_key_(redis_live_pointer_key(projection.info().name)) {}

std::vector<std::string> redis_target::call_args(const std::optional<std::string>& model) const {
  return {model.value_or(""), info().initial_model()};
}

void redis_target::add_event_args(std::vector<std::string>& args, const core::recorded_event& event,
                                  const std::optional<std::string>& model, mode how) const {
  const std::size_t count_at = args.size();
  args.emplace_back();  // the event's word count, known at the end
  args.push_back(event.stream.str());
  args.push_back(std::to_string(event.version.value()));
  args.push_back(how == mode::force ? "1" : "0");
  if (how != mode::skip) {
    for (auto& op : how == mode::force ? projection_.changes(event) : changes_unless_applied(event, model)) {
      args.push_back(std::to_string(op.args.size() + 2));
      args.push_back(std::move(op.command));
      args.push_back(std::move(op.key));
      for (auto& arg : op.args) args.push_back(std::move(arg));
    }
  }
  args[count_at] = std::to_string(args.size() - count_at - 1);
}

std::vector<redis_op> redis_target::changes_unless_applied(const core::recorded_event& event,
                                                           const std::optional<std::string>& model) const {
  try {
    return projection_.changes(event);
  } catch (const handler_error&) {
    // Changes are computed before the script checks versions: a dead-lettered (skipped) event
    // delivered again must count as the duplicate it is, not fail again.
    const auto reply = client_.checked({"HGET", model.value_or(current_live()) + ":applied", event.stream.str()});
    if (reply.type != redis_reply::kind::nil && std::stoll(reply.text) >= event.version.value()) return {};
    throw;
  }
}

std::string redis_target::current_live() const {
  const auto reply = client_.checked({"GET", pointer_key_});
  return reply.type == redis_reply::kind::nil ? info().initial_model() : reply.text;
}

std::vector<redis_target::outcome> redis_target::parse(const redis_reply& reply, std::size_t events) {
  if (reply.is_error()) throw redis_error("redis apply script: " + reply.text);
  if (reply.elements.size() != 1 + 2 * events) throw redis_error("redis apply script: unexpected reply");
  if (reply.elements[0].integer == 1) pointer_made_ = true;
  std::vector<outcome> outcomes;
  outcomes.reserve(events);
  for (std::size_t i = 1; i < reply.elements.size(); i += 2) {
    outcomes.push_back(
        {static_cast<status>(reply.elements[i].integer), core::stream_version{reply.elements[i + 1].integer}});
  }
  return outcomes;
}

bool redis_target::take_live_pointer_made() { return std::exchange(pointer_made_, false); }

redis_target::outcome redis_target::run_one(const core::recorded_event& event, const std::optional<std::string>& model,
                                            mode how) {
  auto args = call_args(model);
  add_event_args(args, event, model, how);
  return parse(script_.run(client_, {pointer_key_}, args), 1).front();
}

apply_counts redis_target::fill_and_apply(const core::recorded_event& event, const std::optional<std::string>& model) {
  apply_counts counts;
  const auto first = run_one(event, model);
  if (first.result != status::gap) {
    (first.result == status::applied ? counts.applied : counts.duplicates) += 1;
    return counts;
  }
  const auto next = core::stream_version{first.last.value() + 1};
  for (const auto& missing : detail::missing_events(store_, event.stream, next, event.version)) {
    if (run_one(missing, model).result == status::applied) ++counts.filled;
  }
  if (run_one(event, model).result != status::applied) throw redis_error("redis apply: stream still has a gap");
  counts.applied += counts.filled + 1;
  return counts;
}

apply_counts redis_target::apply(std::span<const core::recorded_event> events,
                                 const std::optional<std::string>& model) {
  // One script call per run of events, the calls pipelined: one round trip for the batch; the
  // rare gaps are then filled one by one, in order. Every argument list is built before anything
  // is sent, and every reply read before any is judged, so a throwing handler or a failing script
  // never leaves replies queued on the link.
  std::vector<redis_reply> replies = run_pipelined(events, model);
  if (std::any_of(replies.begin(), replies.end(), redis_script::is_noscript)) {
    // A restarted Redis forgot the script: nothing ran (or what ran is idempotent); load it again.
    script_.forget();
    replies = run_pipelined(events, model);
  }
  std::vector<outcome> outcomes;
  outcomes.reserve(events.size());
  for (std::size_t call = 0; call < replies.size(); ++call) {
    const auto in_call = std::min(events_per_call, events.size() - call * events_per_call);
    for (const auto& one : parse(replies[call], in_call)) outcomes.push_back(one);
  }
  apply_counts counts;
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (outcomes[i].result == status::gap)
      counts += fill_and_apply(events[i], model);
    else
      (outcomes[i].result == status::applied ? counts.applied : counts.duplicates) += 1;
  }
  return counts;
}

std::vector<redis_reply> redis_target::run_pipelined(std::span<const core::recorded_event> events,
                                                    const std::optional<std::string>& model) {
  script_.sha(client_);
  std::vector<std::vector<std::string>> commands;
  for (std::size_t first = 0; first < events.size(); first += events_per_call) {
    auto args = call_args(model);
    for (const auto& event : events.subspan(first, std::min(events_per_call, events.size() - first)))
      add_event_args(args, event, model, mode::normal);
    commands.push_back(script_.evalsha_args({pointer_key_}, args));
  }
  for (const auto& command : commands) client_.append(command);
  std::vector<redis_reply> replies;
  for (std::size_t i = 0; i < commands.size(); ++i) replies.push_back(client_.read_reply());
  return replies;
}

void redis_target::force_apply(const core::recorded_event& event) { run_one(event, std::nullopt, mode::force); }

void redis_target::skip(const core::recorded_event& event) {
  const auto first = run_one(event, std::nullopt, mode::skip);
  if (first.result != status::gap) return;
  apply(detail::missing_events(store_, event.stream, core::stream_version{first.last.value() + 1}, event.version),
        std::nullopt);
  run_one(event, std::nullopt, mode::skip);
}

std::string redis_target::live_model() { return current_live(); }

void redis_target::switch_live(const std::string& model) { client_.checked({"SET", pointer_key_, model}); }

void redis_target::drop_model(const std::string& model) {
  // SCAN + UNLINK in small steps: never one long blocking command on a live server.
  std::string cursor = "0";
  do {
    const auto reply = client_.checked({"SCAN", cursor, "MATCH", model + ":*", "COUNT", "1000"});
    cursor = reply.elements.at(0).text;
    std::vector<std::string> unlink{"UNLINK"};
    for (const auto& key : reply.elements.at(1).elements) unlink.push_back(key.text);
    if (unlink.size() > 1) client_.checked(unlink);
  } while (cursor != "0");
}

core::stream_version redis_target::applied_version(const core::stream_id& stream) {
  const auto reply = client_.checked({"HGET", live_model() + ":applied", stream.str()});
  return core::stream_version{reply.type == redis_reply::kind::nil ? 0 : std::stoll(reply.text)};
}

}  // namespace cqrs::projections
