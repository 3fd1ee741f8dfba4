#pragma once

// The product_detail read of the I/O threads' async Redis connection: projections' pointer key,
// initial model and hash decoding (product_detail_read_for, decode_product_detail), read as two
// pipelined commands instead of the blocking reader's script.

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "projections/product/product_projections.hpp"

namespace cqrs::gateway {

// What to send for one product, and what its answer means.
class product_detail_reads {
 public:
  explicit product_detail_reads(std::string projection = "product_detail");

  // The live-model pointer and the product's hash in `model` (the live model as last seen,
  // model_guess()) sent back to back. Its answer counts only when the pointer still names
  // `model`; otherwise decode_pipelined says which model is live now, to read again. Not one
  // atomic step like projections' read script, and it need not be (a third of the script's Redis
  // CPU): a model
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
  std::string pointer_key_;    // the projection's live-model pointer
  std::string initial_model_;  // the model read before any rebuild set the pointer
  mutable std::mutex guess_mutex_;
  mutable std::string guess_;  // the live model as the last pipelined read saw it
};

}  // namespace cqrs::gateway
