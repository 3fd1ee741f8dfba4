#include <charconv>
#include <type_traits>
#include <unordered_map>
#include <variant>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <cereal/details/helpers.hpp>

#include "projections/product/product_projections.hpp"
#include "projections/redis_target.hpp"
#include "schemas/contracts/contract_error.hpp"
#include "schemas/contracts/product/product_codec.hpp"

namespace cqrs::projections {

namespace detail {

std::string entity_id(const core::stream_id& stream) {
  const auto& text = stream.str();
  return text.substr(text.find('-') + 1);
}

namespace {

namespace json = boost::json;

// Reads a contract through its own cereal `serialize` from a parsed JSON object: the same field
// names as the stored cereal JSON, found by name as cereal finds them. `ok` turns false on a
// missing field or another JSON type; the caller then leaves the payload to cereal itself, so
// this only ever accepts what cereal decodes to the same value, about ten times faster.
class json_reader {
 public:
  explicit json_reader(const json::object& object) : object_(object) {}

  template <typename... Items>
  void operator()(Items&&... items) {
    (read(items), ...);
  }
  bool ok() const { return ok_; }

 private:
  template <typename T>
  void read(cereal::NameValuePair<T>& item) {
    const auto* found = object_.if_contains(item.name);
    if (found == nullptr) {
      ok_ = false;
      return;
    }
    load(*found, item.value);
  }

  void load(const json::value& v, std::string& out) {
    if (!v.is_string()) {
      ok_ = false;
      return;
    }
    out.assign(v.get_string().data(), v.get_string().size());
  }
  void load(const json::value& v, std::int64_t& out) {
    if (!v.is_int64()) {
      ok_ = false;
      return;
    }
    out = v.get_int64();
  }
  template <typename T, typename Tag>
  void load(const json::value& v, schemas::strong_value<T, Tag>& out) {
    T inner{};
    load(v, inner);
    out = schemas::strong_value<T, Tag>(std::move(inner));
  }
  template <typename T>
    requires requires(T& t, json_reader& r) { t.serialize(r); }
  void load(const json::value& v, T& out) {
    if (!v.is_object()) {
      ok_ = false;
      return;
    }
    json_reader nested(v.get_object());
    out.serialize(nested);
    ok_ = ok_ && nested.ok();
  }

  const json::object& object_;
  bool ok_ = true;
};

template <std::size_t I = 0>
std::optional<schemas::product_event> read_current(std::string_view type, int version, const json::object& data) {
  if constexpr (I == std::variant_size_v<schemas::product_event>) {
    return std::nullopt;
  } else {
    using contract = std::variant_alternative_t<I, schemas::product_event>;
    if (type != contract::type_name || version != contract::schema_version) return read_current<I + 1>(type, version, data);
    contract value{};
    json_reader reader(data);
    value.serialize(reader);
    if (!reader.ok()) return std::nullopt;
    return schemas::product_event{std::move(value)};
  }
}

// Current-version payloads read through Boost.JSON; nothing for anything else (older versions,
// malformed JSON, a missing or mistyped field): cereal decides those.
std::optional<schemas::product_event> fast_decode(const core::recorded_event& event) {
  unsigned char buffer[4096];
  json::monotonic_resource memory(buffer, sizeof buffer);
  json::error_code error;
  const auto value = json::parse(event.payload, error, &memory);
  if (error || !value.is_object()) return std::nullopt;
  return read_current(event.type, event.schema_version, value.get_object());
}

schemas::product_event decode_product(const core::recorded_event& event) {
  if (auto fast = fast_decode(event)) return std::move(*fast);
  try {
    return schemas::decode_product_event(event.type, event.schema_version, event.payload);
  } catch (const std::exception& e) {
    throw handler_error(event, event.type + " at " + event.stream.str() + " v" + std::to_string(event.version.value()) +
                                   ": " + e.what());
  }
}

// The last event decoded on this thread: a rebuild of several projections hands each the same
// event in turn, which is then decoded once. Keyed by the decode's whole input.
struct last_decoded {
  std::string type;
  int schema_version = 0;
  std::string payload;
  std::optional<schemas::product_event> value;
};

}  // namespace

const schemas::product_event* decode_if_product(const core::recorded_event& event) {
  if (!schemas::is_product_event(event.type, event.schema_version)) return nullptr;
  thread_local last_decoded last;
  if (last.value && last.schema_version == event.schema_version && last.type == event.type &&
      last.payload == event.payload) {
    return &*last.value;
  }
  last.value.reset();
  auto decoded = decode_product(event);
  last.type = event.type;
  last.schema_version = event.schema_version;
  last.payload = event.payload;
  last.value = std::move(decoded);
  return &*last.value;
}

}  // namespace detail

namespace {

using op_list = std::vector<redis_op>;

struct detail_ops {
  std::string key;

  op_list operator()(const schemas::product_created& e) const {
    const auto stock = std::to_string(e.initial_stock);
    return {{"HSET",
             key,
             {"sku", e.code.value(), "name", e.name, "description", e.description, "price_minor",
              std::to_string(e.price.amount_minor), "currency", e.price.currency.value(), "on_hand", stock, "reserved",
              "0", "available", stock, "discontinued", "0"}},
            {"SET", "sku:" + e.code.value(), {key.substr(key.find(':') + 1)}}};
  }
  op_list operator()(const schemas::product_details_updated& e) const {
    return {{"HSET", key, {"name", e.name, "description", e.description}}};
  }
  op_list operator()(const schemas::product_price_changed& e) const {
    return {{"HSET", key, {"price_minor", std::to_string(e.price.amount_minor), "currency", e.price.currency.value()}}};
  }
  op_list operator()(const schemas::product_restocked& e) const { return add(e.added.value(), 0); }
  op_list operator()(const schemas::stock_reserved& e) const { return add(0, e.reserved.value()); }
  op_list operator()(const schemas::reservation_released& e) const { return add(0, -e.released.value()); }
  op_list operator()(const schemas::reservation_committed& e) const {
    return add(-e.committed.value(), -e.committed.value());
  }
  op_list operator()(const schemas::product_discontinued&) const { return {{"HSET", key, {"discontinued", "1"}}}; }

  // Stock moves as increments, so applying them needs no read of the current hash.
  op_list add(std::int64_t on_hand, std::int64_t reserved) const {
    return {{"HINCRBY", key, {"on_hand", std::to_string(on_hand)}},
            {"HINCRBY", key, {"reserved", std::to_string(reserved)}},
            {"HINCRBY", key, {"available", std::to_string(on_hand - reserved)}}};
  }
};

// The bulk fold: what detail_ops would leave in Redis, kept per stream without building op lists.
// Fields are created in the order the ops create them (Redis keeps a small hash's fields in
// insertion order), increments behave as HINCRBY, and `sku:` keys are set as SET would.
class detail_fold final : public redis_fold {
 public:
  void add(const core::recorded_event& event, std::size_t stream) override {
    const auto* decoded = detail::decode_if_product(event);
    if (decoded == nullptr) return;
    if (stream >= products_.size()) products_.resize(stream + 1);
    auto& product = products_[stream];
    if (product.id.empty()) product.id = detail::entity_id(event.stream);
    std::visit([&](const auto& e) { apply(product, e); }, *decoded);
    set(product, "id", product.id);
    set(product, "version", std::to_string(event.version.value()));
  }

  void emit(const std::function<void(redis_op&&)>& write) override {
    for (auto& product : products_) {
      if (product.fields.empty()) continue;
      redis_op op{"HSET", "product:" + product.id, {}};
      op.args.reserve(product.fields.size() * 2);
      for (auto& [field, value] : product.fields) {
        op.args.emplace_back(field);
        op.args.push_back(std::move(value));
      }
      write(std::move(op));
    }
    for (auto& [sku, id] : skus_) write({"SET", "sku:" + sku, {std::move(id)}});
    products_.clear();
    skus_.clear();
  }

 private:
  struct product_hash {
    std::string id;
    std::vector<std::pair<std::string_view, std::string>> fields;  // in creation order
  };

  static std::string& field(product_hash& p, std::string_view name) {
    for (auto& [known, value] : p.fields) {
      if (known == name) return value;
    }
    return p.fields.emplace_back(name, std::string()).second;
  }
  static void set(product_hash& p, std::string_view name, std::string value) { field(p, name) = std::move(value); }
  static void increment(product_hash& p, std::string_view name, std::int64_t by) {
    auto& value = field(p, name);
    std::int64_t current = 0;
    if (!value.empty()) {
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), current);
      if (ec != std::errc{} || end != value.data() + value.size()) throw redis_error("hash value is not an integer");
    }
    value = std::to_string(current + by);
  }

  void apply(product_hash& p, const schemas::product_created& e) {
    const auto stock = std::to_string(e.initial_stock);
    set(p, "sku", e.code.value());
    set(p, "name", e.name);
    set(p, "description", e.description);
    set(p, "price_minor", std::to_string(e.price.amount_minor));
    set(p, "currency", e.price.currency.value());
    set(p, "on_hand", stock);
    set(p, "reserved", "0");
    set(p, "available", stock);
    set(p, "discontinued", "0");
    skus_.insert_or_assign(e.code.value(), p.id);
  }
  void apply(product_hash& p, const schemas::product_details_updated& e) {
    set(p, "name", e.name);
    set(p, "description", e.description);
  }
  void apply(product_hash& p, const schemas::product_price_changed& e) {
    set(p, "price_minor", std::to_string(e.price.amount_minor));
    set(p, "currency", e.price.currency.value());
  }
  void apply(product_hash& p, const schemas::product_restocked& e) { stock(p, e.added.value(), 0); }
  void apply(product_hash& p, const schemas::stock_reserved& e) { stock(p, 0, e.reserved.value()); }
  void apply(product_hash& p, const schemas::reservation_released& e) { stock(p, 0, -e.released.value()); }
  void apply(product_hash& p, const schemas::reservation_committed& e) {
    stock(p, -e.committed.value(), -e.committed.value());
  }
  void apply(product_hash& p, const schemas::product_discontinued&) { set(p, "discontinued", "1"); }
  static void stock(product_hash& p, std::int64_t on_hand, std::int64_t reserved) {
    increment(p, "on_hand", on_hand);
    increment(p, "reserved", reserved);
    increment(p, "available", on_hand - reserved);
  }

  std::vector<product_hash> products_;  // by the rebuild's stream number
  std::unordered_map<std::string, std::string> skus_;
};

// Reads the pointer and the model in one script: never a dropped or half-switched model.
constexpr const char* read_detail_script = R"lua(
local model = redis.call('GET', KEYS[1]) or ARGV[1]
return redis.call('HGETALL', model .. ':product:' .. ARGV[2])
)lua";

constexpr const char* read_sku_script = R"lua(
local model = redis.call('GET', KEYS[1]) or ARGV[1]
return redis.call('GET', model .. ':sku:' .. ARGV[2])
)lua";

}  // namespace

product_detail_projection::product_detail_projection(std::string category, std::string name)
    : info_{std::move(name), 1, std::move(category), target_kind::redis} {}

std::unique_ptr<redis_fold> product_detail_projection::start_fold() const { return std::make_unique<detail_fold>(); }

std::vector<redis_op> product_detail_projection::changes(const core::recorded_event& event) const {
  const auto* decoded = detail::decode_if_product(event);
  if (decoded == nullptr) return {};
  const std::string key = "product:" + detail::entity_id(event.stream);
  auto ops = std::visit(detail_ops{key}, *decoded);
  ops.push_back(
      {"HSET", key, {"id", detail::entity_id(event.stream), "version", std::to_string(event.version.value())}});
  return ops;
}

product_detail_read product_detail_read_for(const std::string& product_id, const std::string& projection) {
  const product_detail_projection p("product", projection);
  return {read_detail_script, {redis_live_pointer_key(projection)}, {p.info().initial_model(), product_id}};
}

std::optional<product_fields> decode_product_detail(const redis_reply& reply) {
  if (reply.elements.empty()) return std::nullopt;
  product_fields fields;
  for (std::size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
    fields[reply.elements[i].text] = reply.elements[i + 1].text;
  }
  return fields;
}

std::optional<product_fields> read_product_detail(redis_client& client, const std::string& product_id,
                                                  const std::string& projection) {
  const auto read = product_detail_read_for(product_id, projection);
  return decode_product_detail(client.evaluate(std::string(read.script), read.keys, read.args));
}

std::optional<std::string> find_product_id_by_sku(redis_client& client, const std::string& sku,
                                                  const std::string& projection) {
  const product_detail_projection p("product", projection);
  const auto reply =
      client.evaluate(read_sku_script, {redis_live_pointer_key(projection)}, {p.info().initial_model(), sku});
  if (reply.type == redis_reply::kind::nil) return std::nullopt;
  return reply.text;
}

}  // namespace cqrs::projections
