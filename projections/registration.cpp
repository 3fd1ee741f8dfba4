#include "projections/registration.hpp"

#include <algorithm>
#include <stdexcept>

namespace cqrs::projections {

namespace {

bool is_scope_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

}  // namespace

projection_scope::projection_scope(std::string name) : name_(std::move(name)) {
  if (!is_valid(name_)) throw std::invalid_argument("a projection scope is empty or [A-Za-z0-9_]+, at most " + std::to_string(max_length) +
                                " characters: '" + name_ + "'");
}

bool projection_scope::is_valid(std::string_view name) {
  return name.size() <= max_length && std::all_of(name.begin(), name.end(), is_scope_char);
}

std::string projection_scope::scoped(std::string_view base) const {
  std::string out(base);
  if (!name_.empty()) out.append("_").append(name_);
  return out;
}

}  // namespace cqrs::projections
