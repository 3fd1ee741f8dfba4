#pragma once

// What an aggregate is, independent of storage: a state, a pure `evolve(state, event)` that folds
// one event, and a pure `decide(state, command)` that returns the new events or a typed
// rejection. Neither does I/O, so every business rule is testable without a database, and the
// command pipeline (commands/) can run any type that satisfies `aggregate` without knowing it.
//
// An aggregate is a type with static members only:
//
//   struct product_aggregate {
//     using state_type = ...; using event_type = ...; using command_type = ...;
//     using rejection_type = ...;
//     static constexpr std::string_view category = "product";
//     static state_type initial_state();
//     static state_type evolve(state_type, const event_type&);
//     static decision<event_type, rejection_type> decide(const state_type&, const command_type&);
//   };

#include <concepts>
#include <cstdint>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace cqrs::core {

// The result of `decide`: either the events to append (possibly none: a command that changes
// nothing) or the reason the command is refused. A refusal is an expected outcome, so it is a
// value and never an exception.
template <typename Event, typename Rejection>
class decision {
 public:
  static decision accept(std::vector<Event> events) { return decision(std::move(events)); }
  static decision reject(Rejection why) { return decision(std::move(why)); }

  bool accepted() const { return std::holds_alternative<std::vector<Event>>(outcome_); }
  const std::vector<Event>& events() const { return std::get<std::vector<Event>>(outcome_); }
  std::vector<Event>& events() { return std::get<std::vector<Event>>(outcome_); }
  const Rejection& rejection() const { return std::get<Rejection>(outcome_); }

 private:
  explicit decision(std::vector<Event> events) : outcome_(std::move(events)) {}
  explicit decision(Rejection why) : outcome_(std::move(why)) {}

  std::variant<std::vector<Event>, Rejection> outcome_;
};

template <typename A>
concept aggregate = requires(typename A::state_type state, const typename A::event_type& event,
                             const typename A::command_type& command) {
  typename A::rejection_type;
  { A::category } -> std::convertible_to<std::string_view>;
  { A::initial_state() } -> std::same_as<typename A::state_type>;
  // `evolve` takes the state by value: folding moves it through, so a long history costs no copies.
  { A::evolve(std::move(state), event) } -> std::same_as<typename A::state_type>;
  { A::decide(state, command) } -> std::same_as<decision<typename A::event_type, typename A::rejection_type>>;
};

// Folds `events` into `state`, in order.
template <aggregate A, typename Events>
typename A::state_type fold(typename A::state_type state, const Events& events) {
  for (const auto& event : events) state = A::evolve(std::move(state), event);
  return state;
}

// `decide` followed by folding its events: the state the aggregate has once the events are
// stored. Rejections leave the state unchanged.
template <aggregate A>
typename A::state_type apply_decision(const typename A::state_type& state,
                                      const decision<typename A::event_type, typename A::rejection_type>& d) {
  return d.accepted() ? fold<A>(state, d.events()) : state;
}

}  // namespace cqrs::core
