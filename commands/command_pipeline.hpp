#pragma once

// The command pipeline: load the aggregate (latest snapshot, then the events after it), decide,
// append with the loaded version as the expected version.
//
// - A concurrent writer that got there first makes the append fail with a version conflict; the
//   pipeline then reloads and decides again (the command may now be refused, e.g. for stock), up
//   to max_attempts decisions with jittered backoff. The caller sees a conflict only when retries
//   run out, or at once when it gave its own expected version (If-Match) and that no longer holds.
// - Idempotency: with a key, the first outcome is stored: an acceptance in the append's statement,
//   a rejection or a command that changed nothing in a statement of its own (decided on the
//   stream as stored, never on the cache). The same key with the same command returns that
//   outcome (marked replayed) without deciding again, even after the aggregate changed; with a
//   different command (or target) it is refused.
// - Snapshots: when an append crosses a multiple of snapshot_every, the new state is stored in the
//   same transaction, so loading reads one snapshot and a tail shorter than snapshot_every.
// - Cache (optional, commands/aggregate_cache.hpp): a state this process loaded or appended is
//   kept, and a command on it is decided on that state and appended at exactly its version, in
//   one statement. Only an acceptance that the append confirms is answered from the cache; any
//   other answer, or a conflict, is decided again on the stream as stored.
// - Every event carries the command id, correlation and causation ids and the actor; the store
//   stamps the time.
//
// Like the event store it runs on, a pipeline belongs to one thread at a time.

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "commands/aggregate_cache.hpp"
#include "commands/command_outcome.hpp"
#include "commands/pipeline_support.hpp"
#include "commands/stored_aggregate.hpp"
#include "core/event_store.hpp"

namespace cqrs::commands {

template <typename Command>
struct command_envelope {
  core::stream_id target;
  Command command;
  command_context context;
};

// An aggregate as loaded, with how it was loaded (for tests and metrics).
template <typename State>
struct loaded_aggregate {
  State state;
  core::stream_version version;                        // 0: the stream does not exist
  std::optional<core::stream_version> snapshot_version;  // the snapshot it started from, if any
  std::size_t tail_events = 0;                           // events read after the snapshot
};

// A command decided on a cached state, ready to append elsewhere (command_pipeline::plan_cached).
template <typename State>
struct cached_append {
  core::append_request request;  // one event at exactly the cached version: groupable
  State next;                    // the cached state with the event folded in
};

template <stored_aggregate A>
class command_pipeline {
 public:
  using state_type = typename A::state_type;
  using event_type = typename A::event_type;
  using envelope_type = command_envelope<typename A::command_type>;
  using outcome_type = command_outcome<typename A::rejection_type>;
  using cache_type = aggregate_cache<state_type>;

  // cache: shared with other pipelines of the process, may be null; outlives the pipeline.
  explicit command_pipeline(core::event_store& store, pipeline_options options = {}, cache_type* cache = nullptr)
      : store_(store), options_(options), cache_(cache) {}
  command_pipeline(const command_pipeline&) = delete;
  command_pipeline& operator=(const command_pipeline&) = delete;

  outcome_type handle(const envelope_type& envelope);
  loaded_aggregate<state_type> load(const core::stream_id& stream);

  // The cached path for callers that append without a pipeline's thread (the gateway hands the
  // append to core::append_committer and answers when it is called back). Only what the cached
  // path of handle() answers from the cache alone qualifies: no idempotency key, the stream
  // cached, If-Match (if any) equal to the cached version, accepted with one event, no claims, no
  // snapshot due. Anything else is nullopt, and the caller runs handle().
  static std::optional<cached_append<state_type>> plan_cached(const cache_type& cache, const pipeline_options& options,
                                                              const envelope_type& envelope);
  // The plan's append was written: the plan's next state is cached, and this is the answer.
  static accepted accept_cached(cache_type& cache, const envelope_type& envelope, state_type next,
                                const core::append_success& written);
  // The plan's append was not written (the stream moved past the cached version): the entry is
  // dropped, so that handle() loads the stream as stored instead of meeting the same conflict.
  static void refused_cached(cache_type& cache, const envelope_type& envelope) { cache.forget(envelope.target); }

 private:
  // A conflict the pipeline may retry (the caller set no expected version of its own).
  struct retry {
    core::stream_version actual;
  };
  using attempt_result = std::variant<outcome_type, retry>;

  struct request_facts {
    const core::event_metadata& metadata;
    const std::string& fingerprint;
  };

  attempt_result attempt(const envelope_type& envelope, const request_facts& facts, int number);
  std::optional<attempt_result> attempt_cached(const envelope_type& envelope, const request_facts& facts, int number);
  // authoritative: `loaded` was read from the store (not the cache), so an outcome that appends
  // nothing may be stored under the command's key.
  attempt_result decide_and_append(const envelope_type& envelope, const request_facts& facts, int number,
                                   const loaded_aggregate<state_type>& loaded, bool authoritative);
  outcome_type kept(const envelope_type& envelope, const request_facts& facts, core::stream_version decided_at,
                    bool authoritative, outcome_type outcome);
  void remember(const core::stream_id& stream, const loaded_aggregate<state_type>& loaded);
  std::optional<outcome_type> known_outcome(const std::string& key, const std::string& fingerprint);
  static core::append_request append_request_for(const pipeline_options& options, const envelope_type& envelope,
                                                 const loaded_aggregate<state_type>& loaded,
                                                 const std::vector<event_type>& events, const request_facts& facts);
  static detail::claim_changes claim_changes_of(const std::vector<event_type>& events);
  // The claim changes and the aggregate's append effects of `events` decided on `before`.
  static detail::claim_changes changes_of(const core::stream_id& stream, const state_type& before,
                                          const std::vector<event_type>& events);
  attempt_result interpret(detail::claimed_append appended, const envelope_type& envelope,
                           const request_facts& facts, int number);
  void fold_stored(loaded_aggregate<state_type>& into, const core::recorded_event& e) const;

  core::event_store& store_;
  pipeline_options options_;
  cache_type* cache_;
};

template <stored_aggregate A>
typename command_pipeline<A>::outcome_type command_pipeline<A>::handle(const envelope_type& envelope) {
  if (envelope.target.category() != A::category) {
    return invalid_request{core::make_error(core::errc::invalid_stream_id, "the stream is not of this aggregate's category")};
  }
  auto metadata = detail::metadata_for(envelope.context);
  if (auto* invalid = std::get_if<invalid_request>(&metadata)) return std::move(*invalid);
  const auto fingerprint = detail::fingerprint(envelope.target, A::encode_command(envelope.command));
  const request_facts facts{std::get<core::event_metadata>(metadata), fingerprint};
  detail::backoff pause(options_);
  for (int number = 1;; ++number) {
    auto result = attempt(envelope, facts, number);
    if (auto* done = std::get_if<outcome_type>(&result)) return std::move(*done);
    if (number >= options_.max_attempts) return version_conflict{std::get<retry>(result).actual, false, number};
    pause.wait(number);
  }
}

template <stored_aggregate A>
loaded_aggregate<typename A::state_type> command_pipeline<A>::load(const core::stream_id& stream) {
  loaded_aggregate<state_type> out{A::initial_state(), core::stream_version{0}, std::nullopt, 0};
  if (auto snap = store_.latest_snapshot(stream)) {
    if (auto state = A::decode_snapshot(snap->schema_version, snap->state)) {
      out = {std::move(*state), snap->version, snap->version, 0};
    }
  }
  // A batch shorter than asked for is the end of the stream: no extra read to find out.
  for (auto from = core::stream_version{out.version.value() + 1};;) {
    // An error here is a misconfigured batch size: a bug, thrown by value() as logic_error.
    const auto batch = store_.read_stream(stream, from, options_.read_batch).value();
    for (const auto& e : batch.events) fold_stored(out, e);
    if (batch.events.size() < options_.read_batch) return out;
    from = batch.next;
  }
}

template <stored_aggregate A>
void command_pipeline<A>::fold_stored(loaded_aggregate<state_type>& into, const core::recorded_event& e) const {
  into.state = A::evolve(std::move(into.state), A::decode_event(e.type, e.schema_version, e.payload));
  into.version = e.version;
  ++into.tail_events;
}

template <stored_aggregate A>
typename command_pipeline<A>::attempt_result command_pipeline<A>::attempt(const envelope_type& envelope,
                                                                            const request_facts& facts, int number) {
  if (auto answered = attempt_cached(envelope, facts, number)) return std::move(*answered);
  const auto loaded = load(envelope.target);
  remember(envelope.target, loaded);
  return decide_and_append(envelope, facts, number, loaded, true);
}

// Answers only what the cached state can answer for sure (see the header): an append the store
// confirmed at exactly the cached version, or an outcome that does not depend on the state.
template <stored_aggregate A>
std::optional<typename command_pipeline<A>::attempt_result> command_pipeline<A>::attempt_cached(
    const envelope_type& envelope, const request_facts& facts, int number) {
  if (cache_ == nullptr) return std::nullopt;
  auto entry = cache_->find(envelope.target);
  if (!entry) return std::nullopt;
  const loaded_aggregate<state_type> loaded{std::move(entry->state), entry->version, std::nullopt, 0};
  auto result = decide_and_append(envelope, facts, number, loaded, false);
  auto* outcome = std::get_if<outcome_type>(&result);
  if (outcome == nullptr) {
    cache_->forget(envelope.target);  // a conflict: the stream moved past the cached version
    return std::nullopt;
  }
  if (const auto* done = std::get_if<accepted>(outcome); done != nullptr && (done->replayed || done->position)) {
    return result;
  }
  if (std::holds_alternative<idempotency_key_reused>(*outcome) || std::holds_alternative<invalid_request>(*outcome)) {
    return result;
  }
  if (const auto* refused = std::get_if<rejected<typename A::rejection_type>>(outcome); refused != nullptr && refused->replayed) {
    return result;  // a stored answer: the same whichever state it is read against
  }
  return std::nullopt;
}

template <stored_aggregate A>
void command_pipeline<A>::remember(const core::stream_id& stream, const loaded_aggregate<state_type>& loaded) {
  if (cache_ != nullptr && loaded.version.value() > 0) cache_->put(stream, loaded.state, loaded.version);
}

template <stored_aggregate A>
typename command_pipeline<A>::attempt_result command_pipeline<A>::decide_and_append(
    const envelope_type& envelope, const request_facts& facts, int number, const loaded_aggregate<state_type>& loaded,
    bool authoritative) {
  // After the load, on every attempt: a command with the same key commits its outcome and its
  // events together, so if the key is not found now, the loaded state cannot hold its events
  // either, and deciding on it is safe (the append then conflicts). Looking up before the load
  // would let such a command commit in between, and its own effect would refuse the retry.
  if (envelope.context.idempotency_key) {
    if (auto known = known_outcome(*envelope.context.idempotency_key, facts.fingerprint)) return std::move(*known);
  }
  if (envelope.context.if_match && *envelope.context.if_match != loaded.version) {
    return outcome_type{version_conflict{loaded.version, true, number}};
  }
  auto decision = A::decide(loaded.state, envelope.command);
  if (!decision.accepted()) {
    return kept(envelope, facts, loaded.version, authoritative,
                outcome_type{rejected<typename A::rejection_type>{decision.rejection()}});
  }
  if (decision.events().empty()) {
    return kept(envelope, facts, loaded.version, authoritative,
                outcome_type{accepted{loaded.version, std::nullopt, {}, false, number}});
  }
  auto request = append_request_for(options_, envelope, loaded, decision.events(), facts);
  auto result = interpret(detail::append_with_claims(store_, request, changes_of(envelope.target, loaded.state, decision.events()), options_),
                          envelope, facts, number);
  if (auto* done = std::get_if<outcome_type>(&result)) {
    // A claim held by another stream refused it: nothing appended, so kept like a rejection.
    if (const auto* refused = std::get_if<rejected<typename A::rejection_type>>(done); refused != nullptr && !refused->replayed) {
      return kept(envelope, facts, loaded.version, authoritative, std::move(*done));
    }
  }
  if (cache_ != nullptr) {
    if (const auto* done = std::get_if<outcome_type>(&result)) {
      if (const auto* ok = std::get_if<accepted>(done); ok != nullptr && !ok->replayed) {
        cache_->put(envelope.target, core::fold<A>(loaded.state, decision.events()), ok->version);
      }
    }
  }
  return result;
}

template <stored_aggregate A>
std::optional<typename command_pipeline<A>::outcome_type> command_pipeline<A>::known_outcome(
    const std::string& key, const std::string& fingerprint) {
  const auto stored = store_.find_command_outcome(key);
  if (!stored) return std::nullopt;
  if (stored->command_fingerprint != fingerprint) return outcome_type{idempotency_key_reused{key}};
  if (auto refusal = detail::stored_refusal(*stored)) {
    auto why = A::decode_rejection(*refusal);
    // The store holds only what this pipeline wrote: an unreadable refusal is a broken invariant
    // of the data (a downgrade across a rejection format change), not the caller's fault.
    if (!why) throw std::runtime_error("the stored outcome of idempotency key " + key + " is an unreadable rejection");
    return outcome_type{rejected<typename A::rejection_type>{std::move(*why), true}};
  }
  return outcome_type{detail::decode_outcome(*stored)};
}

// A keyed command that appended nothing keeps its answer under its key, so that a retry gets the
// same answer even after the aggregate changed. Only an answer decided on the stream as stored is
// kept (a cached state may be stale). When a concurrent command with the key stored first, its
// answer is the answer.
template <stored_aggregate A>
typename command_pipeline<A>::outcome_type command_pipeline<A>::kept(const envelope_type& envelope,
                                                                     const request_facts& facts,
                                                                     core::stream_version decided_at,
                                                                     bool authoritative, outcome_type outcome) {
  const auto& key = envelope.context.idempotency_key;
  if (!authoritative || !key) return outcome;
  const auto* refused = std::get_if<rejected<typename A::rejection_type>>(&outcome);
  const auto text = refused != nullptr ? detail::encode_refusal(A::encode_rejection(refused->why)) : detail::encode_outcome({});
  const auto stored = store_.record_outcome(core::command_outcome_write{*key, facts.fingerprint, text}, envelope.target,
                                            decided_at);
  if (!stored) return outcome_type{invalid_request{stored.error()}};
  if (stored.value()) return outcome;
  if (auto known = known_outcome(*key, facts.fingerprint)) return std::move(*known);
  return outcome;
}

template <stored_aggregate A>
core::append_request command_pipeline<A>::append_request_for(const pipeline_options& options,
                                                             const envelope_type& envelope,
                                                             const loaded_aggregate<state_type>& loaded,
                                                             const std::vector<event_type>& events,
                                                             const request_facts& facts) {
  core::append_request request{envelope.target, core::expected_version::exact(loaded.version), {}, facts.metadata,
                               std::nullopt, std::nullopt};
  std::vector<core::event_id> ids;
  for (const auto& event : events) {
    auto encoded = A::encode_event(event);
    // Ids chosen here so that the stored idempotent outcome can name them.
    ids.push_back(core::event_id::generate());
    request.events.push_back(core::new_event{std::move(encoded.type), encoded.schema_version, std::move(encoded.data), ids.back()});
  }
  const core::stream_version reached{loaded.version.value() + static_cast<std::int64_t>(events.size())};
  if (detail::snapshot_due(loaded.version, reached, options.snapshot_every)) {
    request.snapshot = core::snapshot_write{A::snapshot_schema_version,
                                            A::encode_snapshot(core::fold<A>(loaded.state, events))};
  }
  if (envelope.context.idempotency_key) {
    request.outcome = core::command_outcome_write{*envelope.context.idempotency_key, facts.fingerprint,
                                                  detail::encode_outcome(ids)};
  }
  return request;
}

template <stored_aggregate A>
typename command_pipeline<A>::attempt_result command_pipeline<A>::interpret(detail::claimed_append appended,
                                                                              const envelope_type& envelope,
                                                                              const request_facts& facts, int number) {
  if (auto* success = std::get_if<core::append_success>(&appended)) {
    return outcome_type{accepted{success->version, success->last_position(), success->event_ids, false, number}};
  }
  if (auto* taken = std::get_if<detail::claim_taken>(&appended)) {
    return outcome_type{rejected<typename A::rejection_type>{A::claim_refused(taken->claim)}};
  }
  if (auto* refused = std::get_if<detail::release_refused>(&appended)) {
    if constexpr (releasing_aggregate<A>) {
      return outcome_type{rejected<typename A::rejection_type>{A::release_refused(refused->release)}};
    }
    throw std::logic_error("a release refused for an aggregate that releases nothing");
  }
  const auto& failure = std::get<core::error>(appended);
  switch (detail::classify(failure.code)) {
    case detail::append_refusal::version_conflict: {
      const auto actual = failure.actual_version.value_or(core::stream_version{0});
      if (envelope.context.if_match) return outcome_type{version_conflict{actual, true, number}};
      return retry{actual};
    }
    case detail::append_refusal::duplicate_idempotency_key:
      // A concurrent command with the same key committed first: answer as it was answered.
      if (auto known = known_outcome(*envelope.context.idempotency_key, facts.fingerprint)) return std::move(*known);
      return retry{core::stream_version{0}};
    case detail::append_refusal::invalid_request:
      return outcome_type{invalid_request{failure}};
  }
  throw std::logic_error("unhandled append refusal");
}

template <stored_aggregate A>
detail::claim_changes command_pipeline<A>::claim_changes_of(const std::vector<event_type>& events) {
  detail::claim_changes all;
  for (const auto& event : events) {
    if constexpr (releasing_aggregate<A>) {
      for (auto& release : A::releases(event)) all.releases.push_back(std::move(release));
    }
    for (auto& claim : A::claims(event)) all.claims.push_back(std::move(claim));
  }
  return all;
}

template <stored_aggregate A>
detail::claim_changes command_pipeline<A>::changes_of(const core::stream_id& stream, const state_type& before,
                                                       const std::vector<event_type>& events) {
  auto all = claim_changes_of(events);
  if constexpr (effecting_aggregate<A>) all.effects = A::append_effects(stream, core::fold<A>(before, events), events);
  return all;
}

template <stored_aggregate A>
std::optional<cached_append<typename A::state_type>> command_pipeline<A>::plan_cached(const cache_type& cache,
                                                                                      const pipeline_options& options,
                                                                                      const envelope_type& envelope) {
  // A keyed command's answer must be looked up and stored under its key: handle() does that.
  if (envelope.context.idempotency_key || envelope.target.category() != A::category) return std::nullopt;
  auto metadata = detail::metadata_for(envelope.context);
  if (std::holds_alternative<invalid_request>(metadata)) return std::nullopt;
  auto entry = cache.find(envelope.target);
  if (!entry) return std::nullopt;
  // A failed If-Match on a cached (maybe stale) version is not an answer: handle() decides it.
  if (envelope.context.if_match && *envelope.context.if_match != entry->version) return std::nullopt;
  auto decision = A::decide(entry->state, envelope.command);
  if (!decision.accepted() || decision.events().size() != 1 ||
      !changes_of(envelope.target, entry->state, decision.events()).empty()) {
    return std::nullopt;
  }
  const loaded_aggregate<state_type> loaded{std::move(entry->state), entry->version, std::nullopt, 0};
  const std::string no_fingerprint;  // read only for idempotency keys
  const request_facts facts{std::get<core::event_metadata>(metadata), no_fingerprint};
  auto request = append_request_for(options, envelope, loaded, decision.events(), facts);
  if (!core::event_store::groupable(request)) return std::nullopt;  // a snapshot is due
  return cached_append<state_type>{std::move(request), core::fold<A>(loaded.state, decision.events())};
}

template <stored_aggregate A>
accepted command_pipeline<A>::accept_cached(cache_type& cache, const envelope_type& envelope, state_type next,
                                            const core::append_success& written) {
  cache.put(envelope.target, std::move(next), written.version);
  return accepted{written.version, written.last_position(), written.event_ids, false, 1};
}

}  // namespace cqrs::commands
