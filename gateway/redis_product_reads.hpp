#pragma once

// The product_detail read of projections (product_detail_read_for, decode_product_detail) in the
// form the I/O threads' async Redis connection needs: the script with its SHA1 computed once, and
// the keys and arguments of one product's read.

#include <mutex>
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

  // The cheaper read of the hot path, without a script: the live-model pointer and the product's
  // hash in `model` (the live model as last seen, model_guess()) sent back to back. Its answer
  // counts only when the pointer still names `model`; otherwise decode_pipelined says which model
  // is live now, to read again. Not one atomic step like the script, and it need not be: a model
  // is named by the pointer only once it is complete, and a model dropped after a switch reads as
  // a miss (PostgreSQL then answers), so the hash read is always of a complete model.
  std::vector<std::vector<std::string>> pipelined(const std::string& model, const std::string& product_id) const;
  struct pipelined_answer {
    std::optional<projections::product_fields> fields;  // when the pointer named the model read
    std::optional<std::string> live_model;              // set when it named another one
    bool refused = false;  // an error reply (e.g. LOADING after a restart): read elsewhere
  };
  pipelined_answer decode_pipelined(const std::string& model, const projections::redis_reply& reply) const;
  std::string model_guess() const;

 private:
  redis_lua_script script_;
  std::string pointer_key_;    // the projection's live-model pointer
  std::string initial_model_;  // the model read before any rebuild set the pointer
  mutable std::mutex guess_mutex_;
  mutable std::string guess_;  // the live model as the last pipelined read saw it
};

}  // namespace cqrs::gateway
