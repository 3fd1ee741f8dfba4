#include "gateway/cors_policy.hpp"
