#pragma once

// Stock of every line of an order, reserved, released or committed together: each product's
// command is decided by product::decide on the product as stored, then every product stream is
// written in ONE event_store::append_streams, each at the version it was loaded at. So an order
// holds all its units or none: one product short refuses the whole batch and writes nothing.
//
// The reservation id. One product appears once per order, so one id serves all of an order's
// lines: the order id's text, the `<uuid>` of its stream `order-<uuid>` (reservation_for()).
//
// - Concurrency: a version conflict on any product (another order reserved meanwhile) reloads
//   every product and decides the whole batch again (it may now be refused for stock), up to
//   pipeline_options::max_attempts times with full-jitter backoff; then `batch_contended`.
// - Idempotency: running a batch again is safe. A product already holding this reservation, or
//   having closed it, counts as done for reserve_all and release_all; for commit_all a product
//   holding it commits and one having closed it counts as done. release_all also counts a product
//   that never held the reservation (or does not exist) as done: nothing is there to give back.
//   When every product is done, nothing is written and the answer is `batch_done` with no
//   position. So a caller that lost the answer (a store_error of kind in_doubt) runs it again.
// - Metadata: every event carries the caller's command_context (correlation, causation, actor).
//
// One batch_reservation per thread, like the event store it uses.

#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

#include "commands/command_outcome.hpp"
#include "commands/pipeline_support.hpp"
#include "commands/product/product_errc.hpp"
#include "commands/product/product_pipeline.hpp"
#include "core/event_store.hpp"
#include "schemas/contracts/order/order_values.hpp"
#include "schemas/contracts/product/product_values.hpp"

namespace cqrs::commands::product {

// The reservation id an order uses on each of its products: the order id's text.
schemas::reservation_id reservation_for(const schemas::order_id& order);

// The product stream of a product id (`product-<id>`), or nothing when the id cannot name one.
std::optional<core::stream_id> product_stream(const schemas::product_id& product);

// Every product's step was written (position of the last event), or none was needed (nullopt).
struct batch_done {
  std::optional<core::log_position> last_position;
};

// One product refused its step, so nothing was written.
struct batch_refused {
  schemas::product_id product;
  rejection reason;  // product_not_found, product_discontinued, insufficient_stock, invalid_currency, ...
};

// Other writers kept moving the products: the batch conflicted on every attempt. Nothing written.
struct batch_contended {
  int attempts = 0;
};

// invalid_request: the context (no actor), a product named twice or too many lines for one append.
using batch_outcome = std::variant<batch_done, batch_refused, batch_contended, invalid_request>;

class batch_reservation {
 public:
  // options: max_attempts and the backoff for conflicts, snapshot_every and read_batch for the
  // products (as the product pipeline uses them). `store` outlives this object.
  explicit batch_reservation(core::event_store& store, pipeline_options options = {});
  batch_reservation(const batch_reservation&) = delete;
  batch_reservation& operator=(const batch_reservation&) = delete;

  // Each line's quantity reserved on its product. A line whose unit price is in another currency
  // than the product's price is refused (invalid_currency).
  batch_outcome reserve_all(const std::vector<schemas::order_line>& lines, const schemas::reservation_id& reservation,
                            const command_context& context);
  // Each product's reservation given back (the quantities are the reservation's own).
  batch_outcome release_all(const std::vector<schemas::order_line>& lines, const schemas::reservation_id& reservation,
                            const command_context& context);
  // Each product's reservation turned into a sale: the units leave the stock.
  batch_outcome commit_all(const std::vector<schemas::order_line>& lines, const schemas::reservation_id& reservation,
                           const command_context& context);

  enum class step { reserve, release, commit };

 private:
  batch_outcome run(step kind, const std::vector<schemas::order_line>& lines, const schemas::reservation_id& reservation,
                    const command_context& context);

  core::event_store& store_;
  pipeline_options options_;
  product_pipeline products_;
};

// What placing an order needs to know of a product, read on the write side (the product's
// events folded, as the product pipeline loads it): strongly consistent, unlike a read model.
struct product_facts {
  schemas::product_id product;
  bool exists = false;
  bool discontinued = false;
  schemas::money price{};      // the current unit price (meaningless when !exists)
  std::int64_t available = 0;  // units on hand and not reserved
};

// One entry per id, in order; an id that names no stream reads as a product that does not exist.
std::vector<product_facts> current_products(core::event_store& store, const std::vector<schemas::product_id>& products);

}  // namespace cqrs::commands::product
