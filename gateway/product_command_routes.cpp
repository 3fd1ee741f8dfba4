#include "gateway/product_command_routes.hpp"
