#pragma once

// Sends a process's stored commands through the command pipeline of their target's aggregate,
// without the runtime knowing the aggregates' types: each aggregate a process may command is added
// once with the decoder of its command contracts (`add<A>(decode)`), and a stored command (target
// stream, contract) is decoded and handled by a `command_pipeline<A>` on the caller's store.
//
// The outcome is an action_result: accepted (new or replayed under the key) is done; the
// aggregate's rejection, a reused key or an invalid request is refused (retrying cannot change
// it); a version conflict that outlasted the pipeline's own retries, or a PostgreSQL failure (a
// commit in doubt included: the idempotency key makes the retry safe), is transient.

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "commands/command_pipeline.hpp"
#include "commands/processes/action_results.hpp"
#include "commands/stored_aggregate.hpp"
#include "core/errors.hpp"
#include "core/event_store.hpp"
#include "schemas/contracts/encoded_payload.hpp"

namespace cqrs::commands::processes {

struct stored_command {
  core::stream_id target;
  schemas::encoded_payload command;
  std::string idempotency_key;
  std::string correlation_id;
  std::string causation_id;
};

namespace detail {

// The accepted / refused / transient reading of a pipeline outcome.
template <typename Rejection>
action_result result_of(const command_outcome<Rejection>& outcome, std::string (*describe)(const Rejection&)) {
  struct visitor {
    std::string (*describe)(const Rejection&);
    action_result operator()(const accepted& a) const { return action_done{std::to_string(a.version.value())}; }
    action_result operator()(const rejected<Rejection>& r) const { return action_refused{describe(r.why)}; }
    action_result operator()(const version_conflict& c) const {
      return action_transient{"version conflict after " + std::to_string(c.attempts) + " attempts"};
    }
    action_result operator()(const idempotency_key_reused& k) const {
      return action_refused{"idempotency key reused with another command: " + k.key};
    }
    action_result operator()(const invalid_request& i) const { return action_refused{"invalid request: " + i.why.detail}; }
  };
  return std::visit(visitor{describe}, outcome);
}

}  // namespace detail

// The actor every command of the process runtime carries.
inline constexpr std::string_view runtime_actor = "process-manager";

class command_sender {
 public:
  using sender = std::function<action_result(core::event_store&, const stored_command&)>;

  // `decode`: the domain's command decoder (type, schema version, data) -> A::command_type, which
  // throws schemas::contract_error for what it cannot read; `describe`: a rejection as text.
  template <stored_aggregate A>
  void add(typename A::command_type (*decode)(std::string_view, int, std::string_view),
           std::string (*describe)(const typename A::rejection_type&)) {
    add_sender(std::string(A::category), [decode, describe](core::event_store& store, const stored_command& c) {
      command_pipeline<A> pipeline(store);
      const auto& payload = c.command;
      command_context context{{}, c.correlation_id, c.causation_id, std::string(runtime_actor), c.idempotency_key, {}};
      const auto outcome = pipeline.handle({c.target, decode(payload.type, payload.schema_version, payload.data), context});
      return detail::result_of(outcome, describe);
    });
  }

  // Throws std::logic_error for a second sender of one category.
  void add_sender(std::string category, sender send);

  // A command whose category has no sender, or whose contract does not decode, is refused; a
  // PostgreSQL failure is transient (anything else thrown passes through).
  action_result send(core::event_store& store, const stored_command& command) const;

 private:
  std::map<std::string, sender, std::less<>> senders_;
};

}  // namespace cqrs::commands::processes
