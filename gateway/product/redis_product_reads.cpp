#include "gateway/product/redis_product_reads.hpp"

#include <stdexcept>

namespace cqrs::gateway {

namespace {

// The pointer key and initial model, as projections' own (blocking) read uses them.
projections::product_detail_read template_read(const std::string& projection) {
  return projections::product_detail_read_for("", projection);
}

}  // namespace

product_detail_reads::product_detail_reads(std::string projection)
    : pointer_key_(template_read(projection).keys.at(0)),
      initial_model_(template_read(projection).args.at(0)),
      guess_(initial_model_) {}

std::vector<std::vector<std::string>> product_detail_reads::pipelined(const std::string& model,
                                                                     const std::string& product_id) const {
  return {{"GET", pointer_key_}, {"HGETALL", model + ":product:" + product_id}};
}

product_detail_reads::pipelined_answer product_detail_reads::decode_pipelined(
    const std::string& model, const projections::redis_reply& reply) const {
  if (reply.elements.size() != 2) throw std::logic_error("a pipelined product read has two replies");
  const auto& pointer = reply.elements[0];
  if (pointer.is_error() || reply.elements[1].is_error()) return {std::nullopt, std::nullopt, true};
  const std::string live = pointer.type == projections::redis_reply::kind::text ? pointer.text : initial_model_;
  if (live != model) {
    const std::lock_guard lock(guess_mutex_);
    guess_ = live;
    return {std::nullopt, live};
  }
  return {projections::decode_product_detail(reply.elements[1]), std::nullopt};
}

std::string product_detail_reads::model_guess() const {
  const std::lock_guard lock(guess_mutex_);
  return guess_;
}

}  // namespace cqrs::gateway
