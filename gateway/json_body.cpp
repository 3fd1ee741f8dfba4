#include "gateway/json_body.hpp"

#include <cstdint>
#include <limits>
#include <vector>

#include <boost/json/basic_parser_impl.hpp>

namespace cqrs::gateway {

namespace {

using boost::json::string_view;
using boost::system::error_code;

// Tracks the members seen at each open object; stops the parse at the first duplicate.
class duplicate_finder {
 public:
  static constexpr std::size_t max_object_size = std::numeric_limits<std::size_t>::max();
  static constexpr std::size_t max_array_size = std::numeric_limits<std::size_t>::max();
  static constexpr std::size_t max_key_size = std::numeric_limits<std::size_t>::max();
  static constexpr std::size_t max_string_size = std::numeric_limits<std::size_t>::max();

  bool top_is_object() const { return top_is_object_; }
  const std::string& duplicate() const { return duplicate_; }

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }
  bool on_array_begin(error_code&) { return open(false); }
  bool on_array_end(std::size_t, error_code&) { return close(); }
  bool on_object_begin(error_code&) { return open(true); }
  bool on_object_end(std::size_t, error_code&) { return close(); }
  bool on_string_part(string_view, std::size_t, error_code&) { return true; }
  bool on_string(string_view, std::size_t, error_code&) { return true; }
  bool on_key_part(string_view part, std::size_t, error_code&) {
    key_.append(part.data(), part.size());
    return true;
  }
  bool on_key(string_view last, std::size_t, error_code& ec);
  bool on_number_part(string_view, error_code&) { return true; }
  bool on_int64(std::int64_t, string_view, error_code&) { return true; }
  bool on_uint64(std::uint64_t, string_view, error_code&) { return true; }
  bool on_double(double, string_view, error_code&) { return true; }
  bool on_bool(bool, error_code&) { return true; }
  bool on_null(error_code&) { return true; }
  bool on_comment_part(string_view, error_code&) { return true; }
  bool on_comment(string_view, error_code&) { return true; }

 private:
  struct frame {
    bool object = false;
    std::vector<std::string> keys;  // bodies have a handful of members: a scan beats a set
  };

  bool open(bool object) {
    if (frames_.empty() && !seen_value_) top_is_object_ = object;
    seen_value_ = true;
    frames_.push_back(frame{object, {}});
    return true;
  }
  bool close() {
    frames_.pop_back();
    return true;
  }
  std::string path_to(const std::string& key) const;

  std::vector<frame> frames_;
  std::string key_;
  std::string duplicate_;
  bool top_is_object_ = false;
  bool seen_value_ = false;
};

bool duplicate_finder::on_key(string_view last, std::size_t, error_code& ec) {
  key_.append(last.data(), last.size());
  auto& keys = frames_.back().keys;
  for (const auto& seen : keys) {
    if (seen != key_) continue;
    duplicate_ = path_to(key_);
    ec = boost::json::error::syntax;  // any error stops the parser; duplicate_ says which
    return false;
  }
  keys.push_back(std::move(key_));
  key_.clear();
  return true;
}

// The path of `key` in the innermost object: each enclosing object contributes the member being
// read (its last key), each array "[]".
std::string duplicate_finder::path_to(const std::string& key) const {
  std::string path;
  for (std::size_t i = 0; i + 1 < frames_.size(); ++i) {
    const auto& f = frames_[i];
    if (f.object) {
      if (!path.empty()) path += '.';
      path += f.keys.back();
    } else {
      path += "[]";
    }
  }
  if (!path.empty()) path += '.';
  return path + key;
}

}  // namespace

json_body_check check_json_body_text(std::string_view text) {
  boost::json::basic_parser<duplicate_finder> parser({});
  error_code ec;
  const auto used = parser.write_some(false, text.data(), text.size(), ec);
  const auto& finder = parser.handler();
  if (!finder.duplicate().empty()) return {json_body_check::verdict::duplicate_member, finder.duplicate()};
  // The parser stops after one document: anything but whitespace after it is an error too.
  if (ec || used != text.size()) return {json_body_check::verdict::invalid, {}};
  if (!finder.top_is_object()) return {json_body_check::verdict::not_object, {}};
  return {json_body_check::verdict::object, {}};
}

}  // namespace cqrs::gateway
