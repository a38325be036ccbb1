-- tests/xff-flood.lua - wrk script for t5310: POSTs to the MCP endpoint, each
-- with X-Forwarded-For naming an address no earlier request named
-- (10.T.x.y, T = the wrk thread), until FLOOD_PER_THREAD requests per thread.
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function init(args)
  n = 0
  limit = tonumber(os.getenv("FLOOD_PER_THREAD") or "30000")
end

function request()
  n = n + 1
  local xff = string.format("10.%d.%d.%d", tid, math.floor(n / 256) % 256, n % 256)
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["Accept"] = "application/json",
    ["X-Forwarded-For"] = xff,
  }, '{"jsonrpc":"2.0","id":1,"method":"ping"}')
end

function response(status, headers, body)
  if n >= limit then
    wrk.thread:stop()
  end
end
