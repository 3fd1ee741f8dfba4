#pragma once

// A contract as stored: its type name, the schema version it was written under, and its fields
// serialized by cereal as a JSON object.

#include <string>

namespace cqrs::schemas {

struct encoded_payload {
  std::string type;
  int schema_version = 0;
  std::string data;

  friend bool operator==(const encoded_payload&, const encoded_payload&) = default;
};

}  // namespace cqrs::schemas
