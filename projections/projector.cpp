#include "projections/projector.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdlib>
#include <iterator>
#include <limits>
#include <set>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>
#include <pqxx/pqxx>

#include "core/errors.hpp"
#include "core/kafka_bootstrap.hpp"
#include "core/kafka_messages.hpp"
#include "projections/redis_client.hpp"

namespace cqrs::projections {

namespace {

// fetch.wait.max.ms bounds how long a fetch waits for new messages: librdkafka's 500 ms default
// became the read models' latency on the embedded broker (its fetches wait out the whole time
// instead of returning when a message arrives), and at 10 ms it was still half of the
// acknowledged-to-visible time; at 2,000 commands/s, 3 ms gave a p50 of 10.6-11.3 ms where 5 gave
// 12.3-14.7 (docs/BENCHMARKS.md), and 2 ms 9.5-10.1 where 3 gave 10.1-11.8 (
// once the stack had CPU to spare), for ~500 idle fetches a second per broker. A real cluster
// answers a fetch as soon as a message arrives, so the setting only costs it a few idle fetch
// requests per second per broker. Operators may override it like any property.
core::kafka::conf_ptr consumer_conf(const projector_config& config, void* opaque) {
  auto conf = core::kafka::make_conf({{"bootstrap.servers", config.bootstrap},
                                       {"group.id", config.group},
                                       {"enable.auto.commit", "false"},
                                       {"enable.auto.offset.store", "false"},
                                       {"auto.offset.reset", "earliest"},
                                       {"session.timeout.ms", "6000"},
                                       {"heartbeat.interval.ms", "500"},
                                       {"fetch.wait.max.ms", std::to_string(config.fetch_wait.count())}},
                                      config.kafka_properties);
  rd_kafka_conf_set_opaque(conf.get(), opaque);
  return conf;
}

// With a bootstrap file, the list it holds now: the one the environment gave may be stale.
projector_config with_current_bootstrap(projector_config config) {
  if (config.bootstrap_file.empty()) return config;
  if (auto bootstrap = core::kafka::read_bootstrap_file(config.bootstrap_file); !bootstrap.empty()) config.bootstrap = bootstrap;
  return config;
}

// A topic-start marker's position (commands/relay/message_format.hpp): the relay found a topic
// other than the one its checkpoint was made on, and from the marker on this partition carries
// every event after that position. An unreadable one promises nothing: the end of time.
std::optional<core::log_position> topic_start_of(const rd_kafka_message_t& message) {
  rd_kafka_headers_t* headers = core::kafka::headers_of(message);
  if (headers == nullptr) return std::nullopt;
  const auto text = core::kafka::header_value(headers, "topic-start");
  if (!text) return std::nullopt;
  const auto position = core::log_position::parse(*text);
  constexpr auto last = std::numeric_limits<std::uint64_t>::max();
  return position.ok() ? position.value() : core::log_position{last, last};
}

core::store_options store_options_for(const std::string& url) {
  core::store_options options;
  options.url = url;
  return options;
}

// Kinds the projector outlives. A commit in doubt is among them: every write of the projector is
// idempotent (a change and its stream's applied version commit together; checkpoints only move
// forward), so the doubt is resolved by applying again, which re-reads the applied versions.
bool outlived(core::failure_kind kind) {
  switch (kind) {
    case core::failure_kind::connection: return true;
    case core::failure_kind::in_doubt: return true;
    case core::failure_kind::transient: return true;
    case core::failure_kind::statement: return false;
    case core::failure_kind::unexpected: return false;
  }
  std::abort();
}

std::optional<std::string> outlived_store_error(const core::store_error& e) {
  if (!outlived(e.kind())) return std::nullopt;
  return std::string(e.what());
}

// How long a cut-off read model waits before it tries to catch up again: 100 ms doubling to 5 s,
// so that a blip costs little and a long outage costs one quick failing attempt every 5 s.
std::chrono::milliseconds backoff(int failures) {
  constexpr std::chrono::milliseconds first{100};
  constexpr std::chrono::milliseconds cap{5000};
  return std::min(cap, first * (1 << std::min(failures, 6)));
}

}  // namespace

std::optional<std::string> infrastructure_failure(const std::exception_ptr& failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const redis_error& e) {
    return std::string(e.what());
  } catch (const core::store_error& e) {
    return outlived_store_error(e);
  } catch (const pqxx::pqxx_exception&) {
    // A lost reply to anything is read as a commit in doubt (outlived, see above); a statement
    // PostgreSQL refuses, or a misuse of libpqxx, is not.
    return outlived_store_error(core::detail::to_store_error(failure, core::statement_effect::may_have_committed));
  } catch (...) {
    return std::nullopt;
  }
}

void projector::handled_message::advance_to(const handled_message& later) {
  if (later.position) position = later.position;
  offset = later.offset;
}

projector::projector(projector_config config, const target_set& targets, core::logger log,
                     core::metrics_registry& registry)
    : projector(std::move(config), targets, std::move(log), nullptr, &registry) {}

projector::projector(projector_config config, const target_set& targets, core::logger log)
    : projector(std::move(config), targets, std::move(log), std::make_unique<core::metrics_registry>(), nullptr) {}

projector::projector(projector_config config, const target_set& targets, core::logger log,
                     std::unique_ptr<core::metrics_registry> own, core::metrics_registry* shared)
    : config_(with_current_bootstrap(std::move(config))),
      targets_(targets),
      log_(std::move(log)),
      own_registry_(std::move(own)),
      registry_(shared != nullptr ? *shared : *own_registry_),
      metrics_(make_projection_metrics(registry_, targets_)),
      store_(store_options_for(config_.pg_url)),
      dead_letters_(config_.pg_url),
      checkpoints_(config_.pg_url),
      watermarks_(std::in_place, config_),
      last_commit_(std::chrono::steady_clock::now()),
      last_metrics_(last_commit_) {
  for (const auto& target : targets_.all()) models_[target.get()];
  subscribe();
}

void projector::subscribe() {
  auto conf = consumer_conf(config_, this);
  rd_kafka_conf_set_rebalance_cb(conf.get(), on_rebalance);
  consumer_ = core::kafka::subscribed_consumer(std::move(conf), config_.topic);
}

projector::~projector() {
  if (consumer_) rd_kafka_consumer_close(consumer_.get());
}

void projector::on_rebalance(rd_kafka_t* client, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions,
                             void* opaque) {
  auto* self = static_cast<projector*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    self->expect_checkpointed_offsets(*partitions);
    rd_kafka_assign(client, partitions);
    return;
  }
  // Revoked: everything polled so far is applied (one thread) except what the PostgreSQL models
  // gathered, which is dropped unapplied with its offsets unstored (whoever gets the partitions
  // receives it again; the models that applied it already see duplicates). Applying it here could
  // wait on an unreachable PostgreSQL inside librdkafka's callback. Commit the rest before letting
  // go; no broker queries for idle partitions here, inside the rebalance. Nothing may throw
  // through librdkafka's C frames: an unreachable PostgreSQL leaves the offsets uncommitted (the
  // next owner gets the messages again, changing nothing); anything else is rethrown after the poll.
  self->discard_gathered();
  try {
    self->commit(false);
  } catch (...) {
    if (const auto failure = infrastructure_failure(std::current_exception())) {
      self->log_.warn("checkpoints not saved before giving partitions up", {{"error", *failure}});
    } else {
      self->deferred_failure_ = std::current_exception();
    }
  }
  self->forget_partitions();
  rd_kafka_assign(client, nullptr);
}

// A cut-off model keeps its state: it catches up from its checkpoints on whatever comes next.
void projector::forget_partitions() {
  handled_.clear();
  stored_.clear();
  next_offset_.clear();
  unverified_.clear();
  for (auto& [target, model] : models_) {
    model.applied.clear();
    model.pending.clear();
  }
}

void projector::run(const std::atomic<bool>& stop) {
  while (!stop.load()) {
    // Failures are handled per model inside a poll; one that escapes half-way leaves no telling
    // which model applied what, so every model catches up from its checkpoints.
    if (!at_edge("poll", [&] { poll_once(poll_timeout()); })) cut_off_all("a poll failed half-way");
    const auto now = std::chrono::steady_clock::now();
    // PostgreSQL away: the checkpoints and the Kafka offsets wait for the next interval.
    if (now - last_commit_ >= config_.commit_interval) at_edge("commit", [&] { commit(); });
    if (now - last_metrics_ >= config_.metrics_interval) report_metrics();
  }
  at_edge("apply", [&] { apply_gathered(); });
  at_edge("commit", [&] { commit(); });
  report_metrics();
}

bool projector::at_edge(std::string_view step, const std::function<void()>& work) {
  try {
    work();
    return true;
  } catch (...) {
    const auto failure = infrastructure_failure(std::current_exception());
    if (!failure) throw;
    const auto now = std::chrono::steady_clock::now();
    if (now >= quiet_until_) {
      log_.warn("projector step failed: trying again", {{"step", std::string(step)}, {"error", *failure}});
      quiet_until_ = now + std::chrono::seconds{1};
    }
    return false;
  }
}

void projector::rethrow_deferred() {
  if (!deferred_failure_) return;
  std::rethrow_exception(std::exchange(deferred_failure_, nullptr));
}

// One message, waiting up to `timeout`, then whatever else is already there, up to max_batch:
// a batch is applied to each read model in one step (one PostgreSQL transaction, one Redis
// pipeline), so the per-event cost of a commit is paid once per batch and the models keep up
// under load. Offsets are stored only after every model has applied the batch.
bool projector::poll_once(std::chrono::milliseconds timeout) {
  follow_bootstrap_file();
  std::vector<core::kafka::message_ptr> batch;
  auto wait = timeout;
  while (batch.size() < config_.max_batch) {
    core::kafka::message_ptr message(rd_kafka_consumer_poll(consumer_.get(), static_cast<int>(wait.count())));
    wait = std::chrono::milliseconds{0};
    if (!message) break;
    if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) continue;
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      log_.warn("kafka consumer error", {{"error", rd_kafka_message_errstr(message.get())}});
      break;
    }
    batch.push_back(std::move(message));
  }
  rethrow_deferred();  // the polls above may have run the rebalance callback
  if (!batch.empty()) handle(batch);
  if (gather_due()) apply_gathered();
  heal_due();
  return !batch.empty();
}

// Waits no longer than the gathered events may wait.
std::chrono::milliseconds projector::poll_timeout() const {
  constexpr std::chrono::milliseconds idle{200};
  if (gathered_events_ == 0) return idle;
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(gathering_since_ + config_.postgres_gather -
                                                                 std::chrono::steady_clock::now());
  return std::clamp(left, std::chrono::milliseconds{0}, idle);
}

bool projector::gathers(const projection_target& target) const {
  return config_.postgres_gather.count() > 0 && target.info().target == target_kind::postgres;
}

bool projector::gather_due() const {
  if (gathered_events_ == 0) {
    return std::any_of(models_.begin(), models_.end(), [](const auto& entry) { return !entry.second.pending.empty(); });
  }
  return gathered_events_ >= config_.max_batch ||
         std::chrono::steady_clock::now() - gathering_since_ >= config_.postgres_gather;
}

void projector::apply_gathered() {
  // Taken whole first: a model cut off on the way drops its own share from gathered_.
  auto gathered = std::move(gathered_);
  gathered_.clear();
  gathered_events_ = 0;
  for (auto& [target, events] : gathered) {
    if (!events.empty() && !models_.at(target).cut_off) try_apply(*target, events);
  }
  for (auto& [target, model] : models_) {
    if (!model.cut_off) promote_pending(model);
  }
  store_offsets();
}

void projector::promote_pending(model_state& model) {
  for (const auto& [partition, message] : model.pending) model.applied[partition].advance_to(message);
  model.pending.clear();
}

std::optional<projector::handled_message> projector::applied_by_all(std::int32_t partition) const {
  if (targets_.all().empty()) return handled_.at(partition);
  std::optional<handled_message> lowest;
  for (const auto& [target, model] : models_) {
    const auto it = model.applied.find(partition);
    if (it == model.applied.end()) return std::nullopt;
    if (!lowest || it->second.offset < lowest->offset) lowest = it->second;
  }
  return lowest;
}

// Stores, per partition, the offset after the lowest message every model has applied: a model
// cut off, or still gathering, holds the partition's offset back (a restart then delivers to the
// others again what they applied, changing nothing).
void projector::store_offsets() {
  core::kafka::partition_list_ptr offsets(rd_kafka_topic_partition_list_new(static_cast<int>(handled_.size()) + 1));
  for (const auto& [partition, newest] : handled_) {
    const auto lowest = applied_by_all(partition);
    if (!lowest) continue;
    const auto stored = stored_.find(partition);
    if (stored != stored_.end() && stored->second >= lowest->offset) continue;
    stored_[partition] = lowest->offset;
    // The offset to resume from: the one after the last applied.
    rd_kafka_topic_partition_list_add(offsets.get(), config_.topic.c_str(), partition)->offset = lowest->offset + 1;
  }
  if (offsets->cnt == 0) return;
  if (const auto err = rd_kafka_offsets_store(consumer_.get(), offsets.get()); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    // A partition revoked meanwhile: its messages come again to its next owner, changing nothing.
    log_.warn("kafka offsets not stored", {{"error", rd_kafka_err2str(err)}});
  }
}

void projector::discard_gathered() {
  gathered_.clear();
  gathered_events_ = 0;
  for (auto& [target, model] : models_) model.pending.clear();
}

bool projector::wanted(std::string_view category) const {
  for (const auto& target : targets_.all()) {
    if (target->info().category == category) return true;
  }
  return false;
}

void projector::handle(const std::vector<core::kafka::message_ptr>& batch) {
  std::vector<std::optional<core::recorded_event>> events;
  for (const auto& message : batch) {
    ++stats_.messages;
    const bool marker = check_topic_identity(*message);
    check_offset_jump(*message);
    events.push_back(core::kafka::event_from_message(*message));
    if (!events.back()) {
      ++stats_.ignored;
      if (!marker) log_.warn("not an event message", {{"partition", message->partition}, {"offset", message->offset}});
    } else if (!wanted(events.back()->stream.category())) {
      ++stats_.ignored;
    }
  }
  for (const auto& target : targets_.all()) {
    if (models_.at(target.get()).cut_off) continue;  // it catches up from the store instead
    std::vector<core::recorded_event> mine;
    for (const auto& event : events) {
      if (event && target->info().category == event->stream.category()) mine.push_back(*event);
    }
    if (mine.empty()) continue;
    if (!gathers(*target)) {
      try_apply(*target, mine);
      continue;
    }
    if (gathered_events_ == 0) gathering_since_ = std::chrono::steady_clock::now();
    gathered_events_ += mine.size();
    auto& gathered = gathered_[target.get()];
    gathered.insert(gathered.end(), std::make_move_iterator(mine.begin()), std::make_move_iterator(mine.end()));
  }
  note_handled(batch, events);
  store_offsets();
}

// Every model still taking messages has them now: applied, or gathered (then pending until the
// gathered events are applied).
void projector::note_handled(const std::vector<core::kafka::message_ptr>& batch,
                             const std::vector<std::optional<core::recorded_event>>& events) {
  std::map<std::int32_t, handled_message> newest;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const handled_message message{events[i] ? std::optional(events[i]->position.token()) : std::nullopt,
                                  batch[i]->offset};
    newest[batch[i]->partition].advance_to(message);
  }
  for (const auto& [partition, message] : newest) handled_[partition].advance_to(message);
  for (const auto& target : targets_.all()) {
    auto& model = models_.at(target.get());
    if (model.cut_off) continue;
    for (const auto& [partition, message] : newest) model.pending[partition].advance_to(message);
    const auto gathered = gathered_.find(target.get());
    if (gathered == gathered_.end() || gathered->second.empty()) promote_pending(model);
  }
}

// Poison is the event's problem (dead letters); an unreachable Redis or PostgreSQL is nobody's
// event's problem: it leaves as an exception, and try_apply cuts the model off until it catches
// up from the store, so a restarted server costs that model a pause, never a skipped event, the
// other models' progress or the projector's life. (A Redis restarted without persistence comes
// back empty, live pointer included: the first apply after it makes the pointer again, which
// recover_lost_model takes as the sign to apply the whole category again from the event store,
// unless the projection never applied anything before.)
void projector::apply_to(projection_target& target, std::span<const core::recorded_event> events) {
  // Recorded before the first apply of the session: a failure here leaves nothing applied whose
  // made pointer could go unnoticed after a restart.
  bool applied_before = applied_.contains(&target);
  if (!applied_before) {
    applied_before = !record_applied(target);
    applied_.insert(&target);  // before any recovery, whose own applies come back here
  }
  apply_batch(target, events);
  if (target.take_live_pointer_made() && applied_before) recover_lost_model(target);
}

// Once per session and target. (Two projectors of a group making their first applies of a
// brand-new projection at once may see each other's record with the pointer just made: the
// catch-up that follows is needless but harmless, every event in it a duplicate.)
bool projector::record_applied(const projection_target& target) {
  bool recorded = false;
  // In doubt, it runs again on the next apply and finds its own row: the model then counts as
  // applied before, which at worst costs a needless catch-up.
  checkpoints_.run(core::statement_effect::none_on_failure, [&](pqxx::connection_base& connection) {
    pqxx::work tx(connection);
    const auto result = tx.exec_params0(
        "INSERT INTO projection_applied (projection) VALUES ($1) ON CONFLICT DO NOTHING", target.info().name);
    tx.commit();
    recorded = result.affected_rows() == 1;
  });
  return recorded;
}

// A live model whose pointer had to be made again after the projection had applied events (in
// this session, or in an earlier one as projection_applied records) lost its data with it (a Redis
// restarted without persistence). Each stream's next event would fill that stream from the event
// store, but a quiet stream would stay missing for good: so the whole category is applied again
// from the event store, idempotently (what survived is a duplicate). Blocks this projector's other
// models meanwhile, as an offset jump's catch-up does.
void projector::recover_lost_model(projection_target& target) {
  log_.warn("read model lost: catching up from the event store", {{"projection", target.info().name}});
  ++stats_.lost_models;
  metrics_.at(target.info().name).lost_models.increment();
  catch_up_from_store(target, core::log_position{});
}

// ---- failures: cutting a model off and catching it up again ------------------------------------

// Infrastructure failures cut the model off (the others go on); anything else leaves.
bool projector::try_apply(projection_target& target, std::span<const core::recorded_event> events) {
  try {
    apply_to(target, events);
    return true;
  } catch (...) {
    const auto failure = infrastructure_failure(std::current_exception());
    if (!failure) throw;
    cut_off(target, *failure);
    return false;
  }
}

// What the model had gathered is dropped unapplied: the catch-up from the store covers it, and
// the model's applied marks stay where they were, holding the partitions' offsets back.
void projector::cut_off(projection_target& target, const std::string& why) {
  auto& model = models_.at(&target);
  if (!model.cut_off) {
    log_.warn("read model cut off: catching up from the event store once it answers",
              {{"projection", target.info().name}, {"error", why}});
    ++stats_.cut_offs;
    metrics_.at(target.info().name).cut_offs.increment();
    metrics_.at(target.info().name).unreachable.set(1);
  }
  model.cut_off = true;
  model.pending.clear();
  if (const auto gathered = gathered_.find(&target); gathered != gathered_.end()) {
    gathered_events_ -= gathered->second.size();
    gathered_.erase(gathered);
  }
  ++model.failures;
  model.retry_at = std::chrono::steady_clock::now() + backoff(model.failures);
}

void projector::cut_off_all(const std::string& why) {
  for (const auto& target : targets_.all()) cut_off(*target, why);
}

void projector::heal_due() {
  const auto now = std::chrono::steady_clock::now();
  for (const auto& target : targets_.all()) {
    const auto& model = models_.at(target.get());
    if (model.cut_off && now >= model.retry_at) heal(*target);
  }
}

// Applies the model's category from the store after the lowest position it applied on the
// assigned partitions, to the store's end. Every message handled so far was in the store before
// the relay published it, so the model then holds everything handled, and takes messages again.
void projector::heal(projection_target& target) {
  auto& model = models_.at(&target);
  try {
    if (const auto start = catch_up_start(target)) catch_up_from_store(target, *start);
  } catch (...) {
    const auto failure = infrastructure_failure(std::current_exception());
    if (!failure) throw;
    ++model.failures;
    model.retry_at = std::chrono::steady_clock::now() + backoff(model.failures);
    if (model.failures % 10 == 0) {
      log_.warn("read model still cut off",
                {{"projection", target.info().name}, {"attempts", model.failures}, {"error", *failure}});
    }
    return;
  }
  for (const auto& [partition, message] : handled_) model.applied[partition].advance_to(message);
  model.cut_off = false;
  model.failures = 0;
  ++stats_.heals;
  metrics_.at(target.info().name).unreachable.set(0);
  log_.info("read model caught up from the event store: taking messages again", {{"projection", target.info().name}});
  store_offsets();
}

// None when no partition is assigned: the model then holds back no offset, and whatever is
// assigned next starts from a committed offset it has applied.
std::optional<core::log_position> projector::catch_up_start(const projection_target& target) {
  const auto& model = models_.at(&target);
  std::optional<core::log_position> lowest;
  for (const auto partition : assigned_partitions()) {
    const auto applied = model.applied.find(partition);
    const auto token = applied != model.applied.end() && applied->second.position
                           ? *applied->second.position
                           : checkpointed_position(target, partition);
    const auto parsed = core::log_position::parse(token);
    // An unreadable or empty checkpoint bounds nothing: from the beginning (slow, never wrong).
    const auto position = parsed.ok() ? parsed.value() : core::log_position{};
    if (!lowest || position < *lowest) lowest = position;
  }
  return lowest;
}

std::string projector::checkpointed_position(const projection_target& target, std::int32_t partition) {
  std::string token;
  checkpoints_.run(core::statement_effect::none_on_failure, [&](pqxx::connection_base& connection) {
    pqxx::read_transaction tx(connection);
    const auto rows = tx.exec_params(
        "SELECT log_position FROM projection_checkpoints WHERE projection = $1 AND kafka_partition = $2",
        target.info().name, partition);
    token = rows.empty() ? std::string() : rows[0][0].as<std::string>();
  });
  return token;
}

std::vector<std::int32_t> projector::assigned_partitions() {
  rd_kafka_topic_partition_list_t* raw = nullptr;
  if (rd_kafka_assignment(consumer_.get(), &raw) != RD_KAFKA_RESP_ERR_NO_ERROR) return {};
  const core::kafka::partition_list_ptr assigned(raw);
  std::vector<std::int32_t> partitions;
  for (int i = 0; i < assigned->cnt; ++i) partitions.push_back(assigned->elems[i].partition);
  return partitions;
}

// The whole batch in one step; when one of its events is poison, nothing of the batch was applied
// (the transaction rolled back, or the Redis pipeline was never sent: changes are computed first),
// so the batch goes again one event at a time, where poison is retried and dead-lettered alone.
void projector::apply_batch(projection_target& target, std::span<const core::recorded_event> events) {
  if (events.size() > 1) {
    try {
      count(target, events, target.apply(events));
      return;
    } catch (const handler_error&) {
    }
  }
  for (const auto& event : events) apply_once(target, event);
}

void projector::apply_once(projection_target& target, const core::recorded_event& event) {
  std::map<std::string, int> failures;  // per failing stream version: a gap fill may meet other poison
  for (;;) {
    try {
      count(target, std::span(&event, 1), target.apply(std::span(&event, 1)));
      return;
    } catch (const handler_error& e) {
      const auto key = fmt::format("{}@{}", e.event().stream.str(), e.event().version.value());
      if (++failures[key] < config_.max_attempts) continue;
      log_.error("dead-lettering event", {{"projection", target.info().name},
                                          {"stream", e.event().stream.str()},
                                          {"version", e.event().version.value()},
                                          {"error", e.what()}});
      if (config_.halt_on_poison) throw;
      dead_letters_.record(target.info().name, e.event(), e.what(), failures[key]);
      target.skip(e.event());
      ++stats_.dead_lettered;
      metrics_.at(target.info().name).dead_lettered.increment();
      if (e.event().stream == event.stream && e.event().version >= event.version) return;
    }
  }
}

void projector::count(projection_target& target, std::span<const core::recorded_event> events,
                      const apply_counts& counts) {
  stats_.counts += counts;
  auto& metrics = metrics_.at(target.info().name);
  metrics.applied.increment(static_cast<double>(counts.applied));
  metrics.duplicates.increment(static_cast<double>(counts.duplicates));
  auto& newest = newest_applied_[target.info().name];
  for (const auto& event : events) newest = std::max(newest, event.recorded_at);
}

void projector::commit(bool check_idle) {
  last_commit_ = std::chrono::steady_clock::now();
  save_checkpoints(check_idle);  // first: Kafka's offsets never pass what the checkpoints say
  if (stored_.empty()) return;
  const auto err = rd_kafka_commit(consumer_.get(), nullptr, 0);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
    // REBALANCE_IN_PROGRESS and friends: the messages come again and change nothing.
    log_.warn("kafka commit failed", {{"error", rd_kafka_err2str(err)}});
  }
}

std::map<std::int32_t, std::string> projector::caught_up_partitions() {
  rd_kafka_topic_partition_list_t* raw = nullptr;
  if (rd_kafka_assignment(consumer_.get(), &raw) != RD_KAFKA_RESP_ERR_NO_ERROR) return {};
  const core::kafka::partition_list_ptr positions(raw);
  rd_kafka_position(consumer_.get(), positions.get());
  const auto samples = watermarks_->latest();
  std::map<std::int32_t, std::string> caught_up;
  for (int i = 0; i < positions->cnt; ++i) {
    const auto it = samples.find(positions->elems[i].partition);
    if (it == samples.end()) continue;
    // Nothing consumed in this session: the committed offset (only of applied messages) counts.
    const auto at = std::max(positions->elems[i].offset, it->second.committed);
    if (at >= it->second.high || it->second.high == 0) caught_up[positions->elems[i].partition] = it->second.as_of;
  }
  return caught_up;
}

// Each model's own progress. A cut-off model's rows keep their last values and age, which is how
// /readyz, the lag gauges and read-your-writes see it behind. Idempotent (values only move
// forward), so a commit in doubt is simply done again at the next interval.
void projector::save_checkpoints(bool check_idle) {
  const auto caught_up = check_idle ? caught_up_partitions() : std::map<std::int32_t, std::string>{};
  checkpoints_.run(core::statement_effect::none_on_failure, [&](pqxx::connection_base& connection) {
    pqxx::work tx(connection);
    for (const auto& target : targets_.all()) save_checkpoints_of(tx, *target, caught_up);
    tx.commit();
  });
}

void projector::save_checkpoints_of(pqxx::transaction_base& tx, const projection_target& target,
                                    const std::map<std::int32_t, std::string>& caught_up) {
  const auto& model = models_.at(&target);
  if (model.cut_off) return;
  std::set<std::int32_t> partitions;
  for (const auto& entry : caught_up) partitions.insert(entry.first);
  for (const auto& entry : model.applied) partitions.insert(entry.first);
  for (const auto partition : partitions) {
    const auto it = model.applied.find(partition);
    const auto position = it == model.applied.end() ? std::string() : it->second.position.value_or("");
    const auto offset = it == model.applied.end() ? std::int64_t{-1} : it->second.offset;
    std::optional<std::string> as_of_if;
    // Consumed is not applied while the model still gathers the partition's messages.
    const auto c = caught_up.find(partition);
    if (c != caught_up.end() && !model.pending.contains(partition)) as_of_if = c->second;
    tx.exec_params(
        "INSERT INTO projection_checkpoints (projection, kafka_partition, log_position, kafka_offset, "
        "caught_up_as_of) VALUES ($1, $2, $3, $4, $5::timestamptz) ON CONFLICT (projection, kafka_partition) DO "
        "UPDATE SET log_position = greatest(projection_checkpoints.log_position, EXCLUDED.log_position), "
        "kafka_offset = greatest(projection_checkpoints.kafka_offset, EXCLUDED.kafka_offset), "
        "caught_up_as_of = greatest(projection_checkpoints.caught_up_as_of, EXCLUDED.caught_up_as_of), "
        "updated_at = now()",
        target.info().name, partition, position, offset, as_of_if);
  }
}

void projector::report_metrics() {
  last_metrics_ = std::chrono::steady_clock::now();
  update_lag();
  if (config_.metrics_file.empty()) return;
  if (!core::write_metrics_file(registry_, config_.metrics_file)) {
    log_.warn("cannot write the metrics file", {{"path", config_.metrics_file}});
  }
}

// Lag in Kafka messages, from the local consume positions (no broker round trip) and the
// watcher's latest high watermarks: approximate by a sampling interval, and shared by every
// projection (one consumer feeds them all). Seconds: the age of the newest event applied, which
// says how stale the model is while it lags; 0 once caught up (an idle log is not lag).
void projector::update_lag() {
  rd_kafka_topic_partition_list_t* raw = nullptr;
  if (rd_kafka_assignment(consumer_.get(), &raw) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
  const core::kafka::partition_list_ptr positions(raw);
  rd_kafka_position(consumer_.get(), positions.get());
  const auto samples = watermarks_->latest();
  const auto now = std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
  for (const auto& target : targets_.all()) {
    const auto& model = models_.at(target.get());
    std::int64_t behind = 0;
    for (int i = 0; i < positions->cnt; ++i) {
      const auto it = samples.find(positions->elems[i].partition);
      if (it == samples.end() || it->second.high < 0) continue;
      // A cut-off model is where it last applied, not where the consumer is.
      auto consumed = positions->elems[i].offset;
      if (model.cut_off) {
        const auto applied = model.applied.find(positions->elems[i].partition);
        consumed = applied == model.applied.end() ? -1 : applied->second.offset + 1;
      }
      const auto at = std::max(consumed, it->second.committed);
      behind += std::max<std::int64_t>(0, it->second.high - std::max<std::int64_t>(at, 0));
    }
    const auto& name = target->info().name;
    auto& metrics = metrics_.at(name);
    metrics.lag_events.set(static_cast<double>(behind));
    const auto newest = newest_applied_.find(name);
    const bool stale = behind > 0 && newest != newest_applied_.end();
    metrics.lag_seconds.set(stale ? std::chrono::duration<double>(now - newest->second).count() : 0.0);
  }
}

// The offset every projection has applied on each newly assigned partition, so that a consumer
// starting beyond it (a reset, or a fresh group reading from the latest) is noticed.
// Runs inside librdkafka's rebalance callback: nothing may throw through its C frames.
void projector::expect_checkpointed_offsets(const rd_kafka_topic_partition_list_t& partitions) {
  next_offset_.clear();
  unverified_.clear();
  if (targets_.all().empty()) return;  // nothing to catch up
  try {
    for (int i = 0; i < partitions.cnt; ++i) {
      next_offset_[partitions.elems[i].partition] = checkpointed_offset(partitions.elems[i].partition) + 1;
    }
  } catch (...) {
    // Read again at each partition's first message, from the poll loop (check_offset_jump).
    for (int i = 0; i < partitions.cnt; ++i) {
      if (!next_offset_.contains(partitions.elems[i].partition)) unverified_.insert(partitions.elems[i].partition);
    }
    if (const auto failure = infrastructure_failure(std::current_exception())) {
      log_.warn("cannot read checkpointed offsets yet", {{"error", *failure}});
    } else {
      deferred_failure_ = std::current_exception();
    }
  }
}

// The lowest offset applied by this projector's projections on the partition, -1 when one of them
// has applied nothing there: that projection needs the partition from its first message, so a
// consumer starting past offset 0 skipped events it never saw (a projection added to a running
// group, or a log whose start retention removed) and the first message is a jump, caught up from
// the event store from the beginning of the log.
std::int64_t projector::checkpointed_offset(std::int32_t partition) {
  std::int64_t lowest = std::numeric_limits<std::int64_t>::max();
  checkpoints_.run(core::statement_effect::none_on_failure, [&](pqxx::connection_base& connection) {
    pqxx::read_transaction tx(connection);
    lowest = std::numeric_limits<std::int64_t>::max();
    for (const auto& target : targets_.all()) {
      const auto rows = tx.exec_params(
          "SELECT kafka_offset FROM projection_checkpoints WHERE projection = $1 AND kafka_partition = $2",
          target->info().name, partition);
      const auto offset = rows.empty() ? std::int64_t{-1} : rows[0][0].as<std::int64_t>();
      lowest = std::min(lowest, offset);
    }
  });
  return lowest;
}

// A partition assigned while its checkpointed offsets could not be read: read them now, or, while
// PostgreSQL is still away, let every model catch up from its own checkpoints, which covers a jump.
void projector::verify_partition(std::int32_t partition) {
  if (unverified_.erase(partition) == 0) return;
  try {
    next_offset_[partition] = checkpointed_offset(partition) + 1;
  } catch (...) {
    const auto failure = infrastructure_failure(std::current_exception());
    if (!failure) throw;
    cut_off_all("checkpointed offsets unreadable: " + *failure);
  }
}

void projector::check_offset_jump(const rd_kafka_message_t& message) {
  verify_partition(message.partition);
  const auto expected = next_offset_.find(message.partition);
  const bool jumped = expected != next_offset_.end() && message.offset > expected->second;
  if (jumped) {
    log_.warn("kafka offset jumped: catching up from the event store",
              {{"partition", message.partition}, {"expected", expected->second}, {"offset", message.offset}});
  }
  next_offset_[message.partition] = message.offset + 1;
  if (jumped) recover_partition(message.partition);
}

// A cut-off model is left out: its own catch-up, from before the jump, covers it.
void projector::recover_partition(std::int32_t partition) {
  ++stats_.recoveries;
  for (const auto& target : targets_.all()) {
    if (models_.at(target.get()).cut_off) continue;
    metrics_.at(target->info().name).recoveries.increment();
    try {
      catch_up_from_store(*target, recovery_start(*target, partition));
    } catch (...) {
      const auto failure = infrastructure_failure(std::current_exception());
      if (!failure) throw;
      cut_off(*target, *failure);
    }
  }
}

// ---- Broker identity (docs/projections.md "Broker identity") ----
//
// A topic is only the one the checkpoints were made on while its offsets keep growing. An embedded
// broker restarted empty, a replaced cluster or a recreated topic starts again at offset 0, holds
// none of what the old one acknowledged, and the offset-jump check above sees no jump. Two signs,
// both taken through the same recovery as a jump (catch up from the event store, never skip):
// - a topic-start marker, which the relay sends first to every partition of a topic it finds
//   changed: "from here on this partition carries every event after position S". Everything on
//   the partition up to the checkpointed position P is applied; so if P >= S nothing can be
//   missing, and otherwise whatever is missing lies after P in the log, where the catch-up reads.
// - a message below the expected offset (under the checkpoint, or behind its predecessor): the
//   relay did not (yet) mark the topic. The same catch-up after P covers everything up to the
//   store's head, and what is committed after that the relay sends to the new topic.
// Either way the partition's checkpointed offsets are set back to this topic's, which would
// otherwise keep the old topic's (the upsert keeps the greatest) and hide later jumps.

constexpr auto bootstrap_check_interval = std::chrono::milliseconds{500};

// The broker moved: its bootstrap file names new ports. The old consumer is dropped without
// closing it (closing waits on the dead brokers to leave the group and commit), after what was
// applied is saved in the checkpoints; the new cluster's group starts from its earliest offsets,
// where the relay's markers are.
void projector::follow_bootstrap_file() {
  if (config_.bootstrap_file.empty()) return;
  const auto now = std::chrono::steady_clock::now();
  if (now < next_bootstrap_check_) return;
  next_bootstrap_check_ = now + bootstrap_check_interval;
  auto bootstrap = core::kafka::read_bootstrap_file(config_.bootstrap_file);
  if (bootstrap.empty() || bootstrap == config_.bootstrap) return;
  log_.warn("the broker moved (new bootstrap file): reconnecting", {{"bootstrap", bootstrap}});
  apply_gathered();
  save_checkpoints(false);
  forget_partitions();  // the new consumer's assignment brings them back, checkpointed
  config_.bootstrap = std::move(bootstrap);
  rd_kafka_destroy_flags(consumer_.release(), RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  watermarks_.reset();  // before the new one: one watcher thread at a time
  watermarks_.emplace(config_);
  subscribe();
}

// Returns whether `message` is a topic-start marker (handled here: it is not an event).
bool projector::check_topic_identity(const rd_kafka_message_t& message) {
  if (const auto start = topic_start_of(message)) {
    on_topic_start(message.partition, message.offset, *start);
    return true;
  }
  const auto expected = next_offset_.find(message.partition);
  if (expected != next_offset_.end() && message.offset < expected->second) {
    on_offset_backwards(message, expected->second);
  }
  return false;
}

void projector::on_topic_start(std::int32_t partition, std::int64_t offset, const core::log_position& start) {
  bool recovered = false;
  for (const auto& target : targets_.all()) {
    const auto from = recovery_start(*target, partition);
    if (!(from < start)) continue;  // applied up to the marker's start: nothing can be missing
    catch_up_from_store(*target, from);
    metrics_.at(target->info().name).recoveries.increment();
    recovered = true;
  }
  log_.warn("topic-start marker: the topic was replaced",
            {{"partition", partition}, {"offset", offset}, {"after", start.token()},
             {"caught_up", recovered ? "from the event store" : "nothing missing"}});
  if (recovered) ++stats_.recoveries;
  restart_checkpointed_offsets(partition, offset);
}

void projector::on_offset_backwards(const rd_kafka_message_t& message, std::int64_t expected) {
  log_.warn("kafka offset went backwards: not the topic the checkpoints were made on; catching up from the event store",
            {{"partition", message.partition}, {"expected", expected}, {"offset", message.offset}});
  recover_partition(message.partition);
  restart_checkpointed_offsets(message.partition, message.offset);
}

// Offsets before `offset` count as applied on this topic from now on.
void projector::restart_checkpointed_offsets(std::int32_t partition, std::int64_t offset) {
  pqxx::work tx(checkpoints_.get());
  for (const auto& target : targets_.all()) {
    tx.exec_params0(
        "UPDATE projection_checkpoints SET kafka_offset = $3 WHERE projection = $1 AND kafka_partition = $2",
        target->info().name, partition, offset - 1);
  }
  tx.commit();
  for (auto& [target, model] : models_) {
    if (const auto it = model.applied.find(partition); it != model.applied.end()) it->second.offset = offset - 1;
  }
}

// ---- end of broker identity ----

// Everything on the partition up to its checkpointed log position is applied, and the relay
// publishes in log order, so the skipped messages all lie after it in the log.
core::log_position projector::recovery_start(const projection_target& target, std::int32_t partition) {
  std::string token;
  const auto& applied = models_.at(&target).applied;
  if (const auto it = applied.find(partition); it != applied.end()) token = it->second.position.value_or("");
  if (token.empty()) token = checkpointed_position(target, partition);
  const auto position = core::log_position::parse(token);
  // An unreadable checkpoint cannot bound the loss: start from the beginning (slow, never wrong).
  return position.ok() ? position.value() : core::log_position{};
}

// The whole category after `after`, from the gap-free reader: other partitions' streams come
// along too, harmlessly (already applied versions are no-ops, later ones still arrive by Kafka).
void projector::catch_up_from_store(projection_target& target, core::log_position after) {
  auto at = after;
  for (;;) {
    auto batch = store_.read_category(target.info().category, at, store_.limits().max_batch);
    if (!batch.ok()) throw std::runtime_error("catching up from the event store: " + batch.error().detail);
    if (batch.value().events.empty()) return;
    apply_to(target, batch.value().events);
    at = batch.value().next;
  }
}

projector_config load_projector_config(const core::settings_source& source) {
  using std::chrono::milliseconds;
  projector_config config;
  auto kafka = core::load_kafka_config(source);
  config.bootstrap = std::move(kafka.bootstrap);
  config.bootstrap_file = source.text("CQRS_KAFKA_BOOTSTRAP_FILE", "");
  config.topic = std::move(kafka.topic);
  config.kafka_properties = std::move(kafka.properties);
  config.group = source.text("CQRS_PROJECTOR_GROUP", "cqrs-projections");
  config.pg_url = source.url("CQRS_PG_URL", "", {"postgresql", "postgres"});
  config.max_attempts = static_cast<int>(source.integer("CQRS_PROJECTOR_MAX_ATTEMPTS", 3, 1, 100));
  config.halt_on_poison = source.boolean("CQRS_PROJECTOR_HALT_ON_POISON", false);
  config.max_batch = static_cast<std::size_t>(source.integer("CQRS_PROJECTOR_BATCH", 500, 1, 10'000));
  config.fetch_wait = source.milliseconds("CQRS_PROJECTOR_FETCH_WAIT_MS", config.fetch_wait, milliseconds{1},
                                         milliseconds{10'000});
  config.postgres_gather =
      source.milliseconds("CQRS_PROJECTOR_PG_GATHER_MS", milliseconds{10}, milliseconds{0}, milliseconds{10'000});
  config.metrics_file = source.text("CQRS_PROJECTOR_METRICS_FILE", "");
  return config;
}

}  // namespace cqrs::projections
