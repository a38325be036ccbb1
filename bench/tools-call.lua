-- bench/tools-call.lua - the wrk request script of bench/http.sh and bench/reload.sh.
-- Copied from ../shared/conformance/bench-tools-call.lua, which was written for this
-- project (reference/conformance.md, step 4); keep the two in step.
--
-- wrk script: POST a JSON-RPC tools/call to an MCP Streamable HTTP endpoint.
--   MCP_SESSION_ID=<sid> wrk -t2 -c32 -d10s --latency -s bench-tools-call.lua http://127.0.0.1:3101/mcp
-- Environment:
--   MCP_SESSION_ID        Mcp-Session-Id header (omit for stateless servers)
--   MCP_PROTOCOL_VERSION  MCP-Protocol-Version header (default 2025-11-25)
--   MCP_TOOL              tool name (default test_simple_text)
--   MCP_ARGS              JSON object of arguments (default {})
--   MCP_BEARER            optional bearer token -> Authorization header
-- Every request gets a unique JSON-RPC id: the TS SDK routes responses by request id
-- within a session, so a constant id across concurrent connections misroutes/hangs.
-- Responses are classified: HTTP non-200, JSON-RPC error / isError:true, ok.

local threads = {}
local nthreads = 0

function setup(thread)
  nthreads = nthreads + 1
  thread:set("tid", nthreads)
  table.insert(threads, thread)
end

function init(args)
  counter, ok, bad, rpcerr = 0, 0, 0, 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Accept"] = "application/json, text/event-stream"
  wrk.headers["MCP-Protocol-Version"] = os.getenv("MCP_PROTOCOL_VERSION") or "2025-11-25"
  local sid = os.getenv("MCP_SESSION_ID")
  if sid and sid ~= "" then wrk.headers["Mcp-Session-Id"] = sid end
  local bearer = os.getenv("MCP_BEARER")
  if bearer and bearer ~= "" then wrk.headers["Authorization"] = "Bearer " .. bearer end
  tool = os.getenv("MCP_TOOL") or "test_simple_text"
  targs = os.getenv("MCP_ARGS") or "{}"
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"%s","arguments":%s}}',
    tid * 100000000 + counter, tool, targs)
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  if status ~= 200 then
    bad = bad + 1
  elseif string.find(body, '"error":', 1, true) or string.find(body, '"isError":true', 1, true) then
    rpcerr = rpcerr + 1
  else
    ok = ok + 1
  end
end

function done(summary, latency, requests)
  local tok, tbad, terr = 0, 0, 0
  for _, t in ipairs(threads) do
    tok = tok + t:get("ok"); tbad = tbad + t:get("bad"); terr = terr + t:get("rpcerr")
  end
  io.write(string.format("MCP results: ok=%d http_non200=%d rpc_error_or_isError=%d socket_errors(connect/read/write/timeout)=%d/%d/%d/%d\n",
    tok, tbad, terr, summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout))
  io.write(string.format("requests/s: %.1f (%d requests in %.2f s)\n",
    summary.requests / (summary.duration / 1e6), summary.requests, summary.duration / 1e6))
  for _, p in ipairs({ 50, 75, 90, 99, 99.9 }) do
    io.write(string.format("latency p%g: %.3f ms\n", p, latency:percentile(p) / 1000))
  end
  io.write(string.format("latency mean: %.3f ms  max: %.3f ms\n", latency.mean / 1000, latency.max / 1000))
end
