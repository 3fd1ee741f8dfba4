#include "gateway/http_metrics.hpp"
