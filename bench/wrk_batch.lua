-- wrk_batch.lua: POST Segment batch bodies to tend serve's /v1/batch.
--
-- Bodies come from a file written by `gen_events.py --batch 100 --part events`,
-- one request body per line. Thread T of N sends lines T, T+N, T+2N, ... in
-- order, so no two requests carry the same messages until a thread has sent all
-- of its lines; then it starts again from its first (the server counts those
-- messages as duplicates, still ingest work, and bench/run reports them apart).
--
-- Environment:
--   BODIES       the file of request bodies (required)
--   AUTH         the Authorization header value ("Basic base64(writekey:)")
--   WRK_THREADS  the -t given to wrk (how the lines are shared out)
--
--   BODIES=b.jsonl AUTH="Basic ..." WRK_THREADS=2 \
--     wrk -t2 -c16 -d20s -s bench/wrk_batch.lua http://127.0.0.1:8088

local threads = {}
local next_id = 0

function setup(thread)
   thread:set("tid", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

function init(args)
   local path = os.getenv("BODIES")
   local nthreads = tonumber(os.getenv("WRK_THREADS") or "1")
   assert(path, "wrk_batch.lua: set BODIES to the file of request bodies")
   bodies = {}
   local i = 0
   for line in io.lines(path) do
      if i % nthreads == tid and #line > 0 then
         bodies[#bodies + 1] = line
      end
      i = i + 1
   end
   assert(#bodies > 0, "wrk_batch.lua: no bodies for thread " .. tid .. " in " .. path)
   headers = { ["Content-Type"] = "application/json" }
   local auth = os.getenv("AUTH")
   if auth and #auth > 0 then
      headers["Authorization"] = auth
   end
   idx = 0
   wraps = 0
   not_ok = 0
end

function request()
   idx = idx + 1
   if idx > #bodies then
      idx = 1
      wraps = wraps + 1
   end
   return wrk.format("POST", "/v1/batch", headers, bodies[idx])
end

function response(status, headers, body)
   if status ~= 200 then
      not_ok = not_ok + 1
      if not_ok <= 3 then
         io.stderr:write("wrk_batch.lua: HTTP " .. status .. ": " .. string.sub(body, 1, 200) .. "\n")
      end
   end
end

function done(summary, latency, requests)
   local wrapped, failed, sent = 0, 0, 0
   for _, t in ipairs(threads) do
      wrapped = wrapped + (t:get("wraps") or 0)
      failed = failed + (t:get("not_ok") or 0)
   end
   io.write(string.format("WRK requests=%d duration_us=%d non200=%d wraps=%d " ..
                          "errors=%d latency_p50_ms=%.2f latency_p99_ms=%.2f\n",
                          summary.requests, summary.duration, failed, wrapped,
                          summary.errors.connect + summary.errors.read + summary.errors.write +
                          summary.errors.status + summary.errors.timeout,
                          latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
