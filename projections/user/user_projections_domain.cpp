#include "projections/user/user_projections_domain.hpp"

#include "projections/user/user_projections.hpp"

namespace cqrs::projections::user {

void register_projections(projection_registrar& out) {
  out.add<user_detail_projection>("user", "user_detail");
  out.add<user_admin_list_projection>("user", "user_admin_list");
}

}  // namespace cqrs::projections::user
