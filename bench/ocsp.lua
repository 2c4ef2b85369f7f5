-- bench/ocsp.lua - wrk script for OCSP over HTTP (RFC 6960 Appendix A).
--
--   wrk -t2 -c64 -d10s -s bench/ocsp.lua http://127.0.0.1:PORT -- get  MANIFEST
--   wrk -t2 -c64 -d10s -s bench/ocsp.lua http://127.0.0.1:PORT -- post MANIFEST
--   wrk -t2 -c64 -d10s -s bench/ocsp.lua http://127.0.0.1:PORT -- mixed MANIFEST
--
-- get:  MANIFEST lists url-encoded base64 requests, one per line; each request
--       is GET /<line>.
-- post: MANIFEST lists DER request files, one per line; each request is a POST
--       of the file with Content-Type: application/ocsp-request.
-- mixed: each line is "GET <url-encoded base64>" or "POST <DER file>" (the mix is
--       the proportion of lines; bench/soak.sh uses it).
-- With OCSP_DELAY_MS=N each connection waits N ms after an answer before its
-- next request (a bounded load: about connections * 1000 / (N + latency) per
-- second).
-- Requests are pre-formatted once and picked at random.  With OCSP_CHECK=1 in
-- the environment every answer is checked (HTTP 200 and OCSP responseStatus
-- successful, else it counts as bad); leave it off for throughput runs (a Lua
-- callback per response costs wrk CPU on the same cores as the server).
-- done() prints one line:
--   RESULT requests=N rps=R p50_us=.. p90_us=.. p99_us=.. max_us=.. bad=N errors=N \
--          connect=N read=N write=N status=N timeout=N
-- errors is the sum of wrk's five socket error counts that follow it (wrk counts
-- a timeout every 2 s for each connection whose request is older than --timeout,
-- and for one that has not written its first request 2 s after the start).

-- wrk normally opens and closes a probe connection before the run; `openssl
-- ocsp -port` spins on such a connection, so look the address up without it.
wrk.resolve = function(host, service)
   wrk.addrs = wrk.lookup(host, service)
end

local threads = {}
function setup(thread)
   table.insert(threads, thread)
   thread:set("id", #threads)
end

local pool, n = {}, 0

function init(args)
   local mode, manifest = args[1], args[2]
   assert(mode == "get" or mode == "post" or mode == "mixed", "usage: -- get|post|mixed MANIFEST")
   for line in io.lines(manifest) do
      if line ~= "" then
         n = n + 1
         local how = mode
         if mode == "mixed" then
            how, line = line:match("^(%u+) (.*)$")
            how = how == "GET" and "get" or "post"
         end
         if how == "get" then
            pool[n] = wrk.format("GET", "/" .. line)
         else
            local f = assert(io.open(line, "rb"))
            local body = f:read("*a")
            f:close()
            pool[n] = wrk.format("POST", "/", { ["Content-Type"] = "application/ocsp-request" },
                                 body)
         end
      end
   end
   assert(n > 0, "empty manifest")
   math.randomseed(os.time() * 1000 + (id or 0))
   bad = 0
end

function request()
   return pool[math.random(n)]
end

-- OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED (0 = successful), ... }
local function check(status, headers, body)
   local ok = false
   if status == 200 and #body > 6 then
      local b2 = body:byte(2)
      local off = 3
      if b2 >= 0x80 then off = 3 + (b2 - 0x80) end
      local t, l, v = body:byte(off, off + 2)
      ok = body:byte(1) == 0x30 and t == 0x0a and l == 1 and v == 0
   end
   if not ok then bad = bad + 1 end
end
if os.getenv("OCSP_CHECK") == "1" then response = check end

local pause = tonumber(os.getenv("OCSP_DELAY_MS") or "")
if pause and pause > 0 then
   function delay() return pause end
end

function done(summary, latency, requests)
   local b = 0
   for _, t in ipairs(threads) do b = b + (t:get("bad") or 0) end
   local e = summary.errors
   io.write(string.format(
      "RESULT requests=%d rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d bad=%d errors=%d " ..
      "connect=%d read=%d write=%d status=%d timeout=%d\n",
      summary.requests, summary.requests / (summary.duration / 1e6), latency:percentile(50),
      latency:percentile(90), latency:percentile(99), latency.max, b,
      e.connect + e.read + e.write + e.status + e.timeout,
      e.connect, e.read, e.write, e.status, e.timeout))
end
