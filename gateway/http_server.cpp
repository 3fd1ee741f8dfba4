#include "gateway/http_server.hpp"
