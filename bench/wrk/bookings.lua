-- wrk: every request its own bearer token and Idempotency-Key (as a crowd of customers does), tokens read from
-- the file named by the TOKENS environment variable (one per line, minted by bench/frontdoor.py). At the end,
-- the figures bench/frontdoor.py reads go to the file named by SUMMARY_OUT (JSON). With READ=1, anonymous GETs of
-- the URL instead (the seat-map readers of an on-sale: no token, no key).
local tokens = {}
local counter = 0
local thread_no = 0

function setup(thread)
  thread:set("id", thread_no)
  thread_no = thread_no + 1
end

function init(args)
  reading = os.getenv("READ") == "1"
  if reading then
    wrk.method = "GET"
    return
  end
  for line in io.lines(os.getenv("TOKENS")) do tokens[#tokens + 1] = line end
  wrk.method = "POST"
  wrk.body = os.getenv("BODY") or '{"quantity": 1}'
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  if reading then return wrk.format() end
  counter = counter + 1
  local token = tokens[(counter * 7 + id * 131) % #tokens + 1]
  wrk.headers["Authorization"] = "Bearer " .. token
  wrk.headers["Idempotency-Key"] = "wrk-" .. id .. "-" .. counter .. "-" .. os.time()
  return wrk.format()
end

function done(summary, latency, requests)
  local e = summary.errors
  local out = io.open(os.getenv("SUMMARY_OUT"), "w")
  out:write(string.format(
    '{"requests": %d, "duration_us": %d, "non_2xx": %d, "connect": %d, "read": %d, "write": %d, ' ..
    '"timeout": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d}',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99)))
  out:close()
end
