#include "commands/processes/command_sender.hpp"

#include <stdexcept>
#include <utility>

#include "schemas/contracts/contract_error.hpp"

namespace cqrs::commands::processes {

void command_sender::add_sender(std::string category, sender send) {
  if (senders_.contains(category)) throw std::logic_error("a command sender for category " + category + " exists");
  senders_.emplace(std::move(category), std::move(send));
}

action_result command_sender::send(core::event_store& store, const stored_command& command) const {
  const auto found = senders_.find(command.target.category());
  if (found == senders_.end()) {
    return action_refused{"no aggregate takes commands for category " + std::string(command.target.category())};
  }
  try {
    return found->second(store, command);
  } catch (const schemas::contract_error& e) {
    return action_refused{std::string("unreadable command: ") + e.what()};
  } catch (const core::store_error& e) {
    return action_transient{std::string("PostgreSQL: ") + e.what()};
  }
}

}  // namespace cqrs::commands::processes
