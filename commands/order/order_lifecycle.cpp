// The order lifecycle as a Boost.MSM state machine: the only place its transitions are written.
// next_status() answers from a table built once by running this machine: from the initial state,
// every lifecycle event is tried in every state the machine reaches, so the table is exactly what
// the machine's transition table says.

// The table has more than 20 rows: MPL's preprocessed limits must be raised before any include
// (stack facts: Boost 1.81).
#define BOOST_MPL_CFG_NO_PREPROCESSED_HEADERS
#define BOOST_MPL_LIMIT_VECTOR_SIZE 30
#define BOOST_MPL_LIMIT_MAP_SIZE 30

#include "commands/order/order_lifecycle.hpp"

#include <cstddef>
#include <map>
#include <stdexcept>
#include <utility>
#include <vector>

#include <boost/msm/back/state_machine.hpp>
#include <boost/msm/front/state_machine_def.hpp>
#include <boost/mpl/vector.hpp>

namespace cqrs::commands::order {

namespace {

namespace msm = boost::msm;
namespace mpl = boost::mpl;

// The events, one type each.
struct place {};
struct reserve_stock {};
struct reject {};
struct pay {};
struct fail_payment {};
struct expire {};
struct cancel {};
struct ship {};
struct deliver {};
struct request_refund {};
struct record_full_refund {};
struct record_partial_refund {};

// A state that reports itself to the machine when entered.
template <order_status Status>
struct status_state : msm::front::state<> {
  template <typename Event, typename Machine>
  void on_entry(const Event&, Machine& machine) {
    machine.reached = Status;
  }
};

struct lifecycle_def : msm::front::state_machine_def<lifecycle_def> {
  struct none : status_state<order_status::none> {};
  struct placed : status_state<order_status::placed> {};
  struct stock_reserved : status_state<order_status::stock_reserved> {};
  struct paid : status_state<order_status::paid> {};
  struct shipped : status_state<order_status::shipped> {};
  struct delivered : status_state<order_status::delivered> {};
  struct rejected : status_state<order_status::rejected> {};
  struct payment_failed : status_state<order_status::payment_failed> {};
  struct expired : status_state<order_status::expired> {};
  struct cancelled : status_state<order_status::cancelled> {};
  struct refunded : status_state<order_status::refunded> {};
  struct partially_refunded : status_state<order_status::partially_refunded> {};

  using initial_state = none;

  // clang-format off
  struct transition_table : mpl::vector<
    _row<none,               place,                 placed>,
    _row<placed,             reserve_stock,         stock_reserved>,
    _row<placed,             reject,                rejected>,
    _row<placed,             cancel,                cancelled>,
    _row<placed,             expire,                expired>,
    _row<stock_reserved,     cancel,                cancelled>,
    _row<stock_reserved,     expire,                expired>,
    _row<stock_reserved,     pay,                   paid>,
    _row<stock_reserved,     fail_payment,          payment_failed>,
    _row<paid,               cancel,                cancelled>,
    _row<paid,               ship,                  shipped>,
    _row<shipped,            deliver,               delivered>,
    _row<paid,               request_refund,        paid>,
    _row<shipped,            request_refund,        shipped>,
    _row<delivered,          request_refund,        delivered>,
    _row<partially_refunded, request_refund,        partially_refunded>,
    _row<paid,               record_full_refund,    refunded>,
    _row<shipped,            record_full_refund,    refunded>,
    _row<delivered,          record_full_refund,    refunded>,
    _row<partially_refunded, record_full_refund,    refunded>,
    _row<cancelled,          record_full_refund,    refunded>,
    _row<paid,               record_partial_refund, partially_refunded>,
    _row<shipped,            record_partial_refund, partially_refunded>,
    _row<delivered,          record_partial_refund, partially_refunded>,
    _row<partially_refunded, record_partial_refund, partially_refunded>
  > {};
  // clang-format on

  template <typename Machine, typename Event>
  void no_transition(const Event&, Machine&, int) {
    refused = true;
  }

  order_status reached = order_status::none;
  bool refused = false;
};

using lifecycle = msm::back::state_machine<lifecycle_def>;

// Feeds one event, named by its enumerator, to the machine.
void process(lifecycle& machine, lifecycle_event event) {
  switch (event) {
    case lifecycle_event::place: machine.process_event(place{}); return;
    case lifecycle_event::reserve_stock: machine.process_event(reserve_stock{}); return;
    case lifecycle_event::reject: machine.process_event(reject{}); return;
    case lifecycle_event::pay: machine.process_event(pay{}); return;
    case lifecycle_event::fail_payment: machine.process_event(fail_payment{}); return;
    case lifecycle_event::expire: machine.process_event(expire{}); return;
    case lifecycle_event::cancel: machine.process_event(cancel{}); return;
    case lifecycle_event::ship: machine.process_event(ship{}); return;
    case lifecycle_event::deliver: machine.process_event(deliver{}); return;
    case lifecycle_event::request_refund: machine.process_event(request_refund{}); return;
    case lifecycle_event::record_full_refund: machine.process_event(record_full_refund{}); return;
    case lifecycle_event::record_partial_refund: machine.process_event(record_partial_refund{}); return;
  }
  throw std::invalid_argument("not a lifecycle_event value");
}

using transition_map = std::map<std::pair<order_status, lifecycle_event>, order_status>;

// A machine started and driven through `path`.
lifecycle driven(const std::vector<lifecycle_event>& path) {
  lifecycle machine;
  machine.start();
  for (const auto event : path) process(machine, event);
  return machine;
}

// Every state the machine reaches from its initial state, each tried with every event. Each try
// runs a fresh machine along the path that first reached the state (a copied MSM machine does
// not keep its active state).
transition_map explore() {
  transition_map table;
  const auto initial = driven({}).reached;
  std::map<order_status, std::vector<lifecycle_event>> path_to{{initial, {}}};
  std::vector<order_status> pending{initial};
  while (!pending.empty()) {
    const auto from = pending.back();
    pending.pop_back();
    for (const auto event : all_lifecycle_events) {
      auto path = path_to.at(from);
      lifecycle machine = driven(path);
      machine.refused = false;
      process(machine, event);
      if (machine.refused) continue;
      table.emplace(std::make_pair(from, event), machine.reached);
      path.push_back(event);
      if (path_to.emplace(machine.reached, std::move(path)).second) pending.push_back(machine.reached);
    }
  }
  return table;
}

const transition_map& transitions() {
  static const transition_map table = explore();
  return table;
}

}  // namespace

std::optional<order_status> next_status(order_status from, lifecycle_event event) {
  const auto& table = transitions();
  const auto found = table.find({from, event});
  if (found == table.end()) return std::nullopt;
  return found->second;
}

// No `default:` on purpose: a new value without a name must fail to compile (-Wswitch -Werror).
std::string_view to_string(order_status status) {
  switch (status) {
    case order_status::none: return "none";
    case order_status::placed: return "placed";
    case order_status::stock_reserved: return "stock_reserved";
    case order_status::paid: return "paid";
    case order_status::shipped: return "shipped";
    case order_status::delivered: return "delivered";
    case order_status::rejected: return "rejected";
    case order_status::payment_failed: return "payment_failed";
    case order_status::expired: return "expired";
    case order_status::cancelled: return "cancelled";
    case order_status::refunded: return "refunded";
    case order_status::partially_refunded: return "partially_refunded";
  }
  throw std::invalid_argument("not an order_status value");
}

std::string_view to_string(lifecycle_event event) {
  switch (event) {
    case lifecycle_event::place: return "place";
    case lifecycle_event::reserve_stock: return "reserve_stock";
    case lifecycle_event::reject: return "reject";
    case lifecycle_event::pay: return "pay";
    case lifecycle_event::fail_payment: return "fail_payment";
    case lifecycle_event::expire: return "expire";
    case lifecycle_event::cancel: return "cancel";
    case lifecycle_event::ship: return "ship";
    case lifecycle_event::deliver: return "deliver";
    case lifecycle_event::request_refund: return "request_refund";
    case lifecycle_event::record_full_refund: return "record_full_refund";
    case lifecycle_event::record_partial_refund: return "record_partial_refund";
  }
  throw std::invalid_argument("not a lifecycle_event value");
}

}  // namespace cqrs::commands::order
