#pragma once

// How a domain hands its projections to the catalog (projections/catalog.cpp), and the scope
// that renames them all alike.
//
// A domain names each projection and the stream category it reads as production knows them;
// the registrar builds the projection under the scope's names. So isolation is one rule for
// every domain, not something each domain has to remember: with scope "t1", a projection
// `orders_view` over category `order` runs as `orders_view_t1` over `order_t1`.

#include <concepts>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "projections/projection.hpp"

namespace cqrs::projections {

struct projection_set {
  std::vector<std::unique_ptr<redis_projection>> redis;
  std::vector<std::unique_ptr<pg_projection>> postgres;
};

// A suffix for every projection name and every category read. Empty (the default): the
// production names. Tests, or a second environment sharing the servers, run their own copies
// of every read model beside the production ones, fed by their own streams.
class projection_scope {
 public:
  projection_scope() = default;
  // Throws std::invalid_argument unless `name` is empty or valid (is_valid).
  explicit projection_scope(std::string name);

  // Empty, or [A-Za-z0-9_]+: appended after `_` it keeps a category a category (core/ids.hpp)
  // and a projection name a Redis key part without spaces or `:`. Short enough to leave most
  // of a stream id's 200 characters to the category and the id.
  static constexpr std::size_t max_length = 64;
  static bool is_valid(std::string_view name);

  const std::string& name() const { return name_; }
  bool is_production() const { return name_.empty(); }
  std::string category(std::string_view category) const { return scoped(category); }
  std::string projection(std::string_view projection) const { return scoped(projection); }

 private:
  std::string scoped(std::string_view base) const;

  std::string name_;
};

template <typename P>
concept registrable_projection =
    std::constructible_from<P, std::string, std::string> &&
    (std::derived_from<P, redis_projection> || std::derived_from<P, pg_projection>);

// What a domain's registration function receives. Each projection is constructed from
// (category, name), both already scoped.
class projection_registrar {
 public:
  projection_registrar(projection_set& out, const projection_scope& scope) : out_(out), scope_(scope) {}

  template <registrable_projection P>
  void add(std::string_view category, std::string_view name) {
    auto projection = std::make_unique<P>(scope_.category(category), scope_.projection(name));
    if constexpr (std::derived_from<P, redis_projection>) {
      out_.redis.push_back(std::move(projection));
    } else {
      out_.postgres.push_back(std::move(projection));
    }
  }

 private:
  projection_set& out_;
  const projection_scope& scope_;
};

// A domain's one entry point, in its folder: `void register_projections(projection_registrar&)`.
using domain_projections = void (*)(projection_registrar&);

}  // namespace cqrs::projections
