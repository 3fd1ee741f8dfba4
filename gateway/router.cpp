#include "gateway/router.hpp"
