#include "gateway/stream_routes.hpp"
