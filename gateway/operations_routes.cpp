#include "gateway/operations_routes.hpp"
