#include "gateway/json_body.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <unordered_set>
#include <vector>

#include <boost/json/basic_parser_impl.hpp>

namespace cqrs::gateway {

namespace {

using boost::json::string_view;
using boost::system::error_code;

// Tracks the members seen at each open object; stops the parse at the first duplicate member, NUL
// character or object with too many members (json_body.hpp says why each).
class body_checker {
 public:
  static constexpr std::size_t max_object_size = std::numeric_limits<std::size_t>::max();
  static constexpr std::size_t max_array_size = std::numeric_limits<std::size_t>::max();
  static constexpr std::size_t max_key_size = std::numeric_limits<std::size_t>::max();
  static constexpr std::size_t max_string_size = std::numeric_limits<std::size_t>::max();

  bool top_is_object() const { return top_is_object_; }
  // Set when the parse was stopped for one of the reasons above.
  const std::optional<json_body_check>& fault() const { return fault_; }

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }
  bool on_array_begin(error_code&) { return open(false); }
  bool on_array_end(std::size_t, error_code&) { return close(); }
  bool on_object_begin(error_code&) { return open(true); }
  bool on_object_end(std::size_t, error_code&) { return close(); }
  // Strings arrive decoded: an escaped "\u0000" is a NUL byte here.
  bool on_string_part(string_view part, std::size_t, error_code& ec) { return no_nul(part, ec); }
  bool on_string(string_view last, std::size_t, error_code& ec) { return no_nul(last, ec); }
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
  // Bodies have a handful of members: a scan beats a set, up to this many.
  static constexpr std::size_t scan_limit = 32;

  struct frame {
    bool object = false;
    std::vector<std::string> keys;              // in order: the last is the member being read
    std::unordered_set<std::string> key_index;  // the keys, once there are more than scan_limit
  };

  bool open(bool object) {
    if (frames_.empty() && !seen_value_) top_is_object_ = object;
    seen_value_ = true;
    frames_.push_back(frame{object, {}, {}});
    return true;
  }
  bool close() {
    frames_.pop_back();
    return true;
  }
  static bool seen_before(frame& f, const std::string& key);
  bool no_nul(string_view text, error_code& ec);
  // Any error stops the parser; fault_ says why.
  bool stop(json_body_check::verdict why, std::string member, error_code& ec) {
    fault_ = json_body_check{why, std::move(member)};
    ec = boost::json::error::syntax;
    return false;
  }
  std::string path_through(std::size_t frame_count) const;

  std::vector<frame> frames_;
  std::string key_;
  std::optional<json_body_check> fault_;
  bool top_is_object_ = false;
  bool seen_value_ = false;
};

bool body_checker::seen_before(frame& f, const std::string& key) {
  if (f.key_index.empty()) {
    if (std::find(f.keys.begin(), f.keys.end(), key) != f.keys.end()) return true;
    if (f.keys.size() < scan_limit) return false;
    f.key_index.insert(f.keys.begin(), f.keys.end());
  }
  return !f.key_index.insert(key).second;
}

bool body_checker::on_key(string_view last, std::size_t, error_code& ec) {
  using verdict = json_body_check::verdict;
  key_.append(last.data(), last.size());
  auto& f = frames_.back();
  const auto path = [this] { return path_through(frames_.size() - 1) + key_; };
  if (key_.find('\0') != std::string::npos) return stop(verdict::nul_character, path(), ec);
  if (seen_before(f, key_)) return stop(verdict::duplicate_member, path(), ec);
  if (f.keys.size() >= max_body_object_members) {
    auto object = path_through(frames_.size() - 1);
    if (!object.empty()) object.pop_back();  // the trailing '.'
    return stop(verdict::too_many_members, std::move(object), ec);
  }
  f.keys.push_back(std::move(key_));
  key_.clear();
  return true;
}

bool body_checker::no_nul(string_view text, error_code& ec) {
  if (text.find('\0') == string_view::npos) return true;
  auto path = path_through(frames_.size());
  if (!path.empty() && path.back() == '.') path.pop_back();
  return stop(json_body_check::verdict::nul_character, std::move(path), ec);
}

// The path through the first `frame_count` frames, ending in '.' after an object's member: each
// object contributes the member being read (its last key), each array "[]".
std::string body_checker::path_through(std::size_t frame_count) const {
  std::string path;
  for (std::size_t i = 0; i < frame_count; ++i) {
    const auto& f = frames_[i];
    if (f.object) {
      if (f.keys.empty()) continue;
      path += f.keys.back();
      path += '.';
    } else {
      if (!path.empty() && path.back() == '.') path.pop_back();
      path += "[].";
    }
  }
  return path;
}

}  // namespace

json_body_check check_json_body_text(std::string_view text) {
  boost::json::basic_parser<body_checker> parser({});
  error_code ec;
  const auto used = parser.write_some(false, text.data(), text.size(), ec);
  const auto& finder = parser.handler();
  if (finder.fault()) return *finder.fault();
  // The parser stops after one document: anything but whitespace after it is an error too.
  if (ec || used != text.size()) return {json_body_check::verdict::invalid, {}};
  if (!finder.top_is_object()) return {json_body_check::verdict::not_object, {}};
  return {json_body_check::verdict::object, {}};
}

}  // namespace cqrs::gateway
