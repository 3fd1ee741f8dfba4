#include "schemas/contracts/payment/payment_json.hpp"

#include <variant>

#include "schemas/contracts/detail/contract_json.hpp"

namespace cqrs::schemas {

boost::json::object to_json(const payment_event& event) {
  return std::visit([](const auto& e) { return detail::with_identity(e); }, event);
}

boost::json::object to_json(const payment_command& command) {
  return std::visit([](const auto& c) { return detail::with_identity(c); }, command);
}

}  // namespace cqrs::schemas
