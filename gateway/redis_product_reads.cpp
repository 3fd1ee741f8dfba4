#include "gateway/redis_product_reads.hpp"

namespace cqrs::gateway {

namespace {

// The script and the arguments that do not depend on the product, taken once from projections'
// own read (the blocking reader uses the same one).
projections::product_detail_read template_read(const std::string& projection) {
  return projections::product_detail_read_for("", projection);
}

}  // namespace

product_detail_reads::product_detail_reads(std::string projection)
    : script_(std::string(template_read(projection).script)),
      pointer_key_(template_read(projection).keys.at(0)),
      initial_model_(template_read(projection).args.at(0)) {}

std::optional<projections::product_fields> product_detail_reads::decode(const projections::redis_reply& reply) {
  return projections::decode_product_detail(reply);
}

}  // namespace cqrs::gateway
