-- wrk script of `tools/bench gateway`: GET /v1/products/{id}, each request to a random id of the
-- file given as the first script argument (one id a line). The same script drives nginx, so both
-- sides see the same requests and wrk spends the same CPU on them.
--   wrk ... -s get.lua http://127.0.0.1:PORT -- IDS_FILE
local ids = {}
local threads = 0

-- Each wrk thread gets its own number, so that the threads draw different ids.
function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then ids[#ids + 1] = line end
  end
  assert(#ids > 0, "no ids in " .. tostring(args[1]))
  math.randomseed(os.time() * 1000 + (thread_number or 0))
end

function request()
  return wrk.format("GET", "/v1/products/" .. ids[math.random(#ids)])
end
