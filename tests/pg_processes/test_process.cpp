#include "tests/pg_processes/test_process.hpp"

#include "commands/product/product_aggregate.hpp"
#include "schemas/contracts/product/product_codec.hpp"
#include "tests/support/pg_helpers.hpp"

namespace cqrs::tests::processes {

namespace {

std::string id_of(const core::stream_id& stream) { return stream.str().substr(stream.category().size() + 1); }

std::string product_of(const std::string& process_id) { return "product-" + run_id() + "_" + process_id; }

class process final : public rt::process_definition {
 public:
  explicit process(std::chrono::milliseconds timeout) : type_(test_process_type()), timeout_(timeout) {}

  std::string_view type() const override { return type_; }
  std::vector<std::string> categories() const override { return {"ptest"}; }

  std::optional<rt::route> route_of(const core::recorded_event& event) const override {
    const auto id = id_of(event.stream);
    if (!id.starts_with(run_id() + "_")) return std::nullopt;  // another run's (the topic keeps them)
    return rt::route{id, event.type == "ptest.started"};
  }

  std::optional<rt::reaction> on_event(const std::optional<rt::instance_view>& current,
                                       const core::recorded_event& event) const override {
    const auto& id = id_of(event.stream);
    if (event.type == "ptest.started") {
      rt::reaction r{"created", "creating", false, {}, {}, {}, {}, {}, {}};
      const schemas::product_command create = schemas::create_product{
          schemas::sku(event.payload), "Kettle", "Boils", schemas::money{500, schemas::currency_code("EUR")}, 5};
      r.commands.push_back({"create", core::stream_id::parse(product_of(id)).value(), schemas::encode(create)});
      r.set_deadlines.push_back({"timeout", timeout_});
      return r;
    }
    if (event.type == "ptest.effect" && current) {
      rt::reaction r{current->state, "effecting", false, {}, {}, {}, {}, {}, {}};
      r.effects.push_back({"flaky", "flaky", event.payload, true});
      return r;
    }
    return std::nullopt;
  }

  std::optional<rt::reaction> on_deadline(const rt::instance_view& current, std::string_view name) const override {
    if (name != "timeout") return std::nullopt;
    rt::reaction r{current.state, "timed_out", true, {}, {}, {}, {}, {}, {}};
    const schemas::product_command restock = schemas::restock_product{schemas::quantity(1)};
    r.commands.push_back({"restock", core::stream_id::parse(product_of(current.process_id)).value(), schemas::encode(restock)});
    return r;
  }

  std::optional<rt::reaction> on_effect(const rt::instance_view& current, const rt::effect_outcome& done) const override {
    return rt::reaction{current.state, "effect:" + done.result, false, {}, {}, {}, {}, {}, {}};
  }

 private:
  std::string type_;
  std::chrono::milliseconds timeout_;
};

// Fails as many times as the payload says (counted over the effect's attempts), then answers.
class flaky_performer final : public rt::effect_performer {
 public:
  explicit flaky_performer(std::shared_ptr<effect_counter> counter) : counter_(std::move(counter)) {}

  rt::action_result perform(const rt::effect_call& call, core::event_store&) override {
    const int call_number = ++counter_->calls;
    if (call.payload == "forever" || call_number <= std::stoi(call.payload)) return rt::action_transient{"flaky"};
    return rt::action_done{"ok"};
  }

 private:
  std::shared_ptr<effect_counter> counter_;
};

class flaky_factory final : public rt::effect_performer_factory {
 public:
  explicit flaky_factory(std::shared_ptr<effect_counter> counter) : counter_(std::move(counter)) {}
  std::unique_ptr<rt::effect_performer> make() const override { return std::make_unique<flaky_performer>(counter_); }

 private:
  std::shared_ptr<effect_counter> counter_;
};

std::string describe(const commands::product::rejection& r) { return r.detail; }

}  // namespace

std::string test_process_type() { return "test_" + run_id(); }

rt::registered_process test_process(std::chrono::milliseconds timeout, std::shared_ptr<effect_counter> counter) {
  return {std::make_unique<process>(timeout), std::make_unique<flaky_factory>(std::move(counter))};
}

rt::command_sender product_sender() {
  rt::command_sender sender;
  sender.add<commands::product::product_aggregate>(&schemas::decode_product_command, &describe);
  return sender;
}

}  // namespace cqrs::tests::processes
