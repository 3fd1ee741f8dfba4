#include "gateway/rate_limiter.hpp"
