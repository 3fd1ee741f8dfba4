-- wrk script of `tools/bench auth`, two kinds of request named by the first script argument, the
-- second being a file:
--   wrk ... -s auth.lua https://127.0.0.1:PORT -- login BODY_FILE   POST /v1/auth/login, the JSON body
--   wrk ... -s auth.lua https://127.0.0.1:PORT -- me TOKEN_FILE      GET /v1/users/me with the token
local kind, text

function init(args)
  kind = args[1]
  assert(kind == "login" or kind == "me", "the first argument is login or me, not " .. tostring(kind))
  local file = assert(io.open(args[2], "r"), "no file " .. tostring(args[2]))
  text = kind == "me" and file:read("*l") or file:read("*a")
  file:close()
end

function request()
  if kind == "me" then
    return wrk.format("GET", "/v1/users/me", {["Authorization"] = "Bearer " .. text})
  end
  return wrk.format("POST", "/v1/auth/login", {["Content-Type"] = "application/json"}, text)
end
