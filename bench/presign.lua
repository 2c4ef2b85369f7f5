-- bench/presign.lua - wrk script: nonce-less OCSP POSTs for serials drawn at
-- random from a large set (a million distinct certificates), so that the cache
-- is exercised at scale rather than on a small hot set.
--
--   wrk -t2 -c64 -d10s -s bench/presign.lua http://127.0.0.1:PORT -- TEMPLATE SERIALS
--
-- TEMPLATE: a DER OCSPRequest made by `openssl ocsp -no_nonce -reqout` for a
-- serial of 16 octets (the INTEGER's contents are its last 16 octets);
-- SERIALS: the serials, 16 octets each, concatenated (binary).  Each request is
-- the template with its serial replaced by one drawn at random.
-- done() prints the same RESULT line as bench/ocsp.lua.
wrk.resolve = function(host, service)
   wrk.addrs = wrk.lookup(host, service)
end

local threads = {}
function setup(thread)
   table.insert(threads, thread)
   thread:set("id", #threads)
end

local prefix, serials, n
local headers = { ["Content-Type"] = "application/ocsp-request" }

function init(args)
   local f = assert(io.open(args[1], "rb"))
   local t = f:read("*a")
   f:close()
   prefix = t:sub(1, #t - 16)
   f = assert(io.open(args[2], "rb"))
   serials = f:read("*a")
   f:close()
   n = math.floor(#serials / 16)
   assert(n > 0, "no serials")
   math.randomseed(os.time() * 1000 + (id or 0))
end

function request()
   local i = math.random(n) - 1
   return wrk.format("POST", "/", headers, prefix .. serials:sub(i * 16 + 1, i * 16 + 16))
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "RESULT requests=%d rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d bad=0 errors=%d\n",
      summary.requests, summary.requests / (summary.duration / 1e6), latency:percentile(50),
      latency:percentile(90), latency:percentile(99), latency.max,
      e.connect + e.read + e.write + e.status + e.timeout))
end
