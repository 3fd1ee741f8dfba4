#include "gateway/gateway_config.hpp"
