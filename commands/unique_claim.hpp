#pragma once

// A value that must be unique across the streams of a category (a SKU or an e-mail address's
// blind index). An aggregate cannot check that alone; it names the claims its events make, and
// the pipeline writes them in the same transaction as the events (table unique_claims, migration
// 0010), so two concurrent writers cannot both succeed.
//
// An event may also release claims its stream holds (claim_release): an address given up is free
// for another stream from the commit on. A release may keep a scope from going empty, which
// makes a scope of membership claims a strongly consistent set with a floor of one member (the
// admins: the last one cannot leave).

#include <string>

namespace cqrs::commands {

struct unique_claim {
  std::string scope;  // "<category>.<field>": claims of different scopes never collide
  std::string value;  // ignored when `membership`
  // The value is the claiming stream's own id: the stream is a member of the scope's set.
  bool membership = false;

  static unique_claim member_of(std::string scope) { return unique_claim{std::move(scope), {}, true}; }

  friend bool operator==(const unique_claim&, const unique_claim&) = default;
};

// Gives up every claim the stream holds in `scope`. Written before the same append's claims, so
// an event may move a stream's claim from one value to another.
struct claim_release {
  std::string scope;
  // Refuses the command when the stream's claims are the last of the scope (other streams' claims
  // of the scope are locked meanwhile, so two streams releasing concurrently cannot both leave).
  bool keep_scope_nonempty = false;

  friend bool operator==(const claim_release&, const claim_release&) = default;
};

}  // namespace cqrs::commands
