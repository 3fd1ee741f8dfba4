-- wrk script of `tools/bench gateway`: POST /v1/products/{id}/restock {"quantity":1} as an admin,
-- each request to a random product of the ids file.
--   wrk ... -s restock.lua http://127.0.0.1:PORT -- IDS_FILE TOKEN
local ids = {}
local threads = 0

-- Each wrk thread gets its own number, so that the threads draw different ids.
function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end
local headers

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then ids[#ids + 1] = line end
  end
  assert(#ids > 0, "no ids in " .. tostring(args[1]))
  headers = { ["Authorization"] = "Bearer " .. args[2], ["Content-Type"] = "application/json" }
  math.randomseed(os.time() * 1000 + (thread_number or 0))
end

function request()
  return wrk.format("POST", "/v1/products/" .. ids[math.random(#ids)] .. "/restock", headers, '{"quantity":1}')
end
