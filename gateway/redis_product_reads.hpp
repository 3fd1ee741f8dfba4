#pragma once

// The product_detail read of projections (product_detail_read_for, decode_product_detail) in the
// form the I/O threads' async Redis connection needs: the script with its SHA1 computed once, and
// the keys and arguments of one product's read.

#include <optional>
#include <string>
#include <vector>

#include "gateway/redis_async.hpp"
#include "projections/product_projections.hpp"

namespace cqrs::gateway {

// What to send for one product: EVALSHA of script() with these keys and args.
class product_detail_reads {
 public:
  explicit product_detail_reads(std::string projection = "product_detail");

  const redis_lua_script& script() const { return script_; }
  std::vector<std::string> keys() const { return {pointer_key_}; }
  std::vector<std::string> args(std::string product_id) const { return {initial_model_, std::move(product_id)}; }

  // The hash's fields, or nothing when the live model has no such product.
  static std::optional<projections::product_fields> decode(const projections::redis_reply& reply);

 private:
  redis_lua_script script_;
  std::string pointer_key_;    // the projection's live-model pointer
  std::string initial_model_;  // the model read before any rebuild set the pointer
};

}  // namespace cqrs::gateway
