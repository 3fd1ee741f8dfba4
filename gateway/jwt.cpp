#include "gateway/jwt.hpp"
