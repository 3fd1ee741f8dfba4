#pragma once

// The aggregates as tools see them, without knowing their types: a category, and a way to fold a
// stream's stored events into a state rendered as JSON. Entries are made by one template over any
// stored_aggregate, so a domain registers an aggregate by naming it and its state's rendering;
// decoding and folding stay the aggregate's own (`A::decode_event`, `core::fold`).

#include <concepts>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>

#include "commands/stored_aggregate.hpp"
#include "core/aggregate.hpp"
#include "core/events.hpp"

namespace cqrs::commands {

// One stream's state under construction. Not thread-safe; one per stream being folded.
class state_folder {
 public:
  virtual ~state_folder() = default;
  // Folds the events, in stream order, after those already folded. Throws schemas::contract_error
  // for an event the aggregate cannot read.
  virtual void fold(std::span<const core::recorded_event> events) = 0;
  virtual boost::json::object state_json() const = 0;
};

// How a domain renders its aggregate's state for people (the `cqrs state` tool).
template <typename A>
using state_renderer = boost::json::object (*)(const typename A::state_type&);

namespace detail {

template <stored_aggregate A>
class typed_state_folder final : public state_folder {
 public:
  explicit typed_state_folder(state_renderer<A> render) : render_(render) {}

  void fold(std::span<const core::recorded_event> events) override {
    std::vector<typename A::event_type> decoded;
    decoded.reserve(events.size());
    for (const auto& e : events) decoded.push_back(A::decode_event(e.type, e.schema_version, e.payload));
    state_ = core::fold<A>(std::move(state_), decoded);
  }

  boost::json::object state_json() const override { return render_(state_); }

 private:
  state_renderer<A> render_;
  typename A::state_type state_ = A::initial_state();
};

}  // namespace detail

struct aggregate_entry {
  std::string category;
  std::function<std::unique_ptr<state_folder>()> make_folder;  // a fresh folder at the initial state
};

class aggregate_registry {
 public:
  // Throws std::logic_error when the category is registered already.
  template <stored_aggregate A>
  void add(state_renderer<A> render) {
    add_entry({std::string(A::category), [render] { return std::make_unique<detail::typed_state_folder<A>>(render); }});
  }

  // Nothing for a category no aggregate has.
  const aggregate_entry* find(std::string_view category) const;
  // In registration order.
  std::vector<std::string> categories() const;

 private:
  void add_entry(aggregate_entry entry);

  std::vector<aggregate_entry> entries_;
};

}  // namespace cqrs::commands
