#include "schemas/contracts/user/user_json.hpp"

#include <string>
#include <variant>
#include <vector>

#include <boost/json/array.hpp>

namespace cqrs::schemas {

namespace json = boost::json;

namespace {

// Writes a contract's fields through its own cereal `serialize`, so the JSON names are the stored
// names by construction and a new field cannot be forgotten here. User contracts hold only
// strings, strong strings and role lists.
class json_writer {
 public:
  template <typename... Items>
  void operator()(Items&&... items) {
    (write(items), ...);
  }
  json::object take() { return std::move(out_); }

 private:
  template <typename T>
  void write(const cereal::NameValuePair<T>& item) {
    out_[item.name] = value_of(item.value);
  }
  static json::value value_of(const std::string& text) { return json::string(text); }
  template <typename T, typename Tag>
  static json::value value_of(const strong_value<T, Tag>& v) {
    return value_of(v.value());
  }
  template <typename T>
  static json::value value_of(const std::vector<T>& items) {
    json::array all;
    for (const auto& item : items) all.push_back(value_of(item));
    return all;
  }

  json::object out_;
};

template <typename Contract>
json::object with_identity(const Contract& contract) {
  json_writer writer;
  const_cast<Contract&>(contract).serialize(writer);  // serialize is non-const by cereal's design; it only reads here
  return json::object{{"type", Contract::type_name}, {"schema_version", Contract::schema_version}, {"data", writer.take()}};
}

}  // namespace

json::object to_json(const user_event& event) {
  return std::visit([](const auto& e) { return with_identity(e); }, event);
}

json::object to_json(const user_command& command) {
  return std::visit([](const auto& c) { return with_identity(c); }, command);
}

}  // namespace cqrs::schemas
