-- wrk script used by bench/run.py for every read endpoint.
-- BENCH_PATHS (optional): a file with one request path per line; requests go round-robin
-- over them (e.g. many different detail pages). BENCH_HEADERS: "Name: value|Name: value".
-- done() prints one JSON line with latency percentiles (ms), requests, errors, duration;
-- with BENCH_QUANTILES=1 also the whole latency distribution (BENCH_Q line).

local paths = {}
local file = os.getenv("BENCH_PATHS")
if file and file ~= "" then
  for line in io.lines(file) do
    if line ~= "" then table.insert(paths, line) end
  end
end
local headers_env = os.getenv("BENCH_HEADERS") or ""
for item in string.gmatch(headers_env, "[^|]+") do
  local name, value = string.match(item, "^%s*([^:]+):%s*(.-)%s*$")
  if name then wrk.headers[name] = value end
end

local counter = 0
function init(args)
  counter = math.random(1, math.max(#paths, 1))
end

function request()
  if #paths == 0 then
    return wrk.format(nil)
  end
  counter = (counter % #paths) + 1
  return wrk.format(nil, paths[counter])
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"p50_ms": %.3f, "p95_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, "mean_ms": %.3f, ' ..
    '"errors_connect": %d, "errors_read": %d, "errors_write": %d, "errors_status": %d, ' ..
    '"errors_timeout": %d}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, latency.mean / 1000,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout))
  -- BENCH_QUANTILES: the latency (ms) at every 0.1 percentile, 0 to 100, so that the
  -- distributions of several wrk runs at once can be merged (bench/churn.py)
  if os.getenv("BENCH_QUANTILES") == "1" then
    local values = {}
    for i = 0, 1000 do
      local p = i / 10
      local v = (i == 0) and latency.min or latency:percentile(p)
      values[#values + 1] = string.format("%.3f", v / 1000)
    end
    io.write("BENCH_Q [" .. table.concat(values, ",") .. "]\n")
  end
end
