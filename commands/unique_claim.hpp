#pragma once

// A value that must be unique across the streams of a category (a SKU or an e-mail address). An
// aggregate cannot check that alone; it names the claims its events make, and the pipeline writes
// them in the same transaction as the events (table unique_claims, migration 0010), so two
// concurrent writers cannot both succeed. Claims are never released.

#include <string>

namespace cqrs::commands {

struct unique_claim {
  std::string scope;  // "<category>.<field>": claims of different scopes never collide
  std::string value;

  friend bool operator==(const unique_claim&, const unique_claim&) = default;
};

}  // namespace cqrs::commands
