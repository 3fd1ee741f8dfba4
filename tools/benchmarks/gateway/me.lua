-- wrk script of `tools/bench auth`: GET /v1/users/me with the access token read from the file given
-- as the first script argument.
--   wrk ... -s me.lua https://127.0.0.1:PORT -- TOKEN_FILE
local token

function init(args)
  local file = assert(io.open(args[1], "r"), "no token file " .. tostring(args[1]))
  token = file:read("*l")
  file:close()
end

function request()
  return wrk.format("GET", "/v1/users/me", {["Authorization"] = "Bearer " .. token})
end
