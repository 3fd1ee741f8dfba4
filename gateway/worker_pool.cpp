#include "gateway/worker_pool.hpp"
