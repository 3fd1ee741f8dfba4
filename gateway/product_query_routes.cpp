#include "gateway/product_query_routes.hpp"
