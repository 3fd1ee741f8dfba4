#pragma once

// Reads for the gateway's queries and /metrics that the projection workers do not need:
// - one product of the PostgreSQL catalog model (the live model, joined in the same statement,
//   so a rebuild's switch never shows a half-built model), the fallback when Redis misses or is
//   down;
// - the relay's and the projections' checkpoints, cheap enough for every scrape (`cqrs
//   projections` computes exact lag with a scan per category; this does not).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pqxx {
class transaction_base;
}

namespace cqrs::projections {

struct catalog_product {
  std::string product_id;
  std::string sku;
  std::string name;
  std::string description;
  std::int64_t price_minor = 0;
  std::string currency;
  std::int64_t on_hand = 0;
  std::int64_t reserved = 0;
  bool discontinued = false;
  std::int64_t version = 0;  // the stream version the row reflects
};

std::optional<catalog_product> read_catalog_product(pqxx::transaction_base& tx, const std::string& product_id,
                                                    const std::string& projection = "product_catalog");

struct relay_checkpoint_state {
  std::string log_position;  // token of the last confirmed position
  double age_seconds = 0;    // since the relay last saved it (PostgreSQL's clock)
};

// Nothing before the relay's first checkpoint.
std::optional<relay_checkpoint_state> read_relay_checkpoint(pqxx::transaction_base& tx, const std::string& relay_name,
                                                            const std::string& topic);

struct projection_partition_state {
  std::string projection;
  int partition = 0;
  std::string log_position;  // '' when nothing applied yet
  std::int64_t offset = 0;
  double age_seconds = 0;         // since the projector last saved it
  bool caught_up_since_relay = false;  // caught_up_as_of at or after the relay checkpoint's time
};

// Every projection's checkpoint rows, by projection then partition; projections with a live model
// but no checkpoint yet appear with partition -1.
std::vector<projection_partition_state> read_projection_checkpoints(pqxx::transaction_base& tx,
                                                                    const std::string& relay_name,
                                                                    const std::string& topic);

}  // namespace cqrs::projections
