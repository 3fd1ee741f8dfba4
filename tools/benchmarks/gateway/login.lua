-- wrk script of `tools/bench auth`: POST /v1/auth/login with one user's credentials, the body given
-- as the first script argument (a file holding the JSON).
--   wrk ... -s login.lua https://127.0.0.1:PORT -- BODY_FILE
local body

function init(args)
  local file = assert(io.open(args[1], "r"), "no body file " .. tostring(args[1]))
  body = file:read("*a")
  file:close()
end

function request()
  return wrk.format("POST", "/v1/auth/login", {["Content-Type"] = "application/json"}, body)
end
