#include "core/pg_arrays.hpp"

namespace cqrs::core {

namespace {

void append_quoted(std::string& out, const std::string& item) {
  out.push_back('"');
  for (char c : item) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
}

}  // namespace

std::string pg_array(const std::vector<std::string>& items) {
  std::string out = "{";
  for (const auto& item : items) {
    if (out.size() > 1) out.push_back(',');
    append_quoted(out, item);
  }
  out.push_back('}');
  return out;
}

std::string pg_array(const std::vector<std::optional<std::string>>& items) {
  std::string out = "{";
  for (const auto& item : items) {
    if (out.size() > 1) out.push_back(',');
    if (item) {
      append_quoted(out, *item);
    } else {
      out += "NULL";  // unquoted: the element is NULL ("NULL" quoted is the text)
    }
  }
  out.push_back('}');
  return out;
}

std::string pg_array(const std::vector<std::int64_t>& numbers) {
  std::string out = "{";
  for (const auto number : numbers) {
    if (out.size() > 1) out.push_back(',');
    out += std::to_string(number);
  }
  out.push_back('}');
  return out;
}

std::string pg_array(const std::vector<bool>& flags) {
  std::string out = "{";
  for (const bool flag : flags) {
    if (out.size() > 1) out.push_back(',');
    out.push_back(flag ? 't' : 'f');
  }
  out.push_back('}');
  return out;
}

}  // namespace cqrs::core
