-- serve_wrk.lua: one line of results for bench/serve, GETs of one dashboard or
-- REST path (the URL given to wrk; headers with -H).
--
--   wrk -t2 -c4 -d10s --latency -H "Authorization: Bearer TOKEN" \
--     -s bench/serve_wrk.lua http://127.0.0.1:8088/accounts
--
-- Prints, at the end, one line that bench/serve parses:
--   SERVE requests=N duration_us=N bytes=N non2xx=N errors=N p50_ms=.. p90_ms=.. p99_ms=.. max_ms=..
-- non2xx: answers with a status of 400 or more (wrk's errors.status);
-- errors: connect, read, write errors and timeouts.

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format("SERVE requests=%d duration_us=%d bytes=%d non2xx=%d errors=%d " ..
                          "p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
                          summary.requests, summary.duration, summary.bytes, e.status,
                          e.connect + e.read + e.write + e.timeout,
                          latency:percentile(50) / 1000, latency:percentile(90) / 1000,
                          latency:percentile(99) / 1000, latency.max / 1000))
end
