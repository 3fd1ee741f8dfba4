#pragma once

// A stored payload that cannot be read as any known contract: an unknown type or schema version,
// or bytes that do not parse. This is corruption or a deployment mistake (an older binary reading
// newer events), never an expected outcome, hence an exception.

#include <stdexcept>
#include <string>

namespace cqrs::schemas {

class contract_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace cqrs::schemas
