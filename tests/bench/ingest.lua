-- wrk script for the ingest benchmark (tests/bench/ingest.py writes the requests file and runs it):
--   wrk -t1 -c100 -d10s -s tests/bench/ingest.lua http://127.0.0.1:PORT/webhooks/whatsapp -- REQUESTS
-- REQUESTS holds one signed webhook a line, "signature<TAB>body", each with its own message id: Hearth
-- answers a message id it has already stored without storing it again, so a repeated body would
-- measure the duplicate check, not accepting a message. wrk's Lua has no HMAC, so the signatures are
-- computed beforehand. When the file runs out it starts over, and the count of repeats is reported.

local signatures, bodies = {}, {}
local next_index, wrapped = 1, false
local threads = {}
-- A global, so that done() can read each thread's count with thread:get().
repeated = 0

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   for line in io.lines(args[1]) do
      local signature, body = line:match("^([^\t]+)\t(.*)$")
      table.insert(signatures, signature)
      table.insert(bodies, body)
   end
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
end

function request()
   if next_index > #bodies then
      next_index, wrapped = 1, true
   end
   if wrapped then
      repeated = repeated + 1
   end
   local headers = { ["X-Hub-Signature-256"] = signatures[next_index] }
   local made = wrk.format(nil, nil, headers, bodies[next_index])
   next_index = next_index + 1
   return made
end

-- One JSON line for ingest.py to read: the counts, and latency percentiles in microseconds.
function done(summary, latency, requests)
   local total_repeated = 0
   for _, thread in ipairs(threads) do
      total_repeated = total_repeated + thread:get("repeated")
   end
   local errors = summary.errors
   local failed = errors.connect + errors.read + errors.write + errors.timeout + errors.status
   io.write(string.format(
      '{"requests": %d, "duration_us": %d, "errors": %d, "non_2xx": %d, "repeated": %d, ' ..
      '"p50_us": %d, "p99_us": %d}\n',
      summary.requests, summary.duration, failed, errors.status, total_repeated,
      latency:percentile(50), latency:percentile(99)))
end
