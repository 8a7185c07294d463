-- wrk script for bench/load.mjs: one scenario, configured through the environment.
--   BENCH_METHOD, BENCH_BODY, BENCH_CONTENT_TYPE, BENCH_ORIGIN, BENCH_COOKIE   the request
--   BENCH_XFF=1, BENCH_IP_BASE=<1..223>  a distinct X-Forwarded-For client IP per request
--                                         (BENCH_IP_BASE.x.y.z; the bench server trusts the header)
--   BENCH_EXPECT_STATUS    a success has this status
--   BENCH_EXPECT_COOKIE    ... and sets this cookie to a non-empty value
--   BENCH_EXPECT_BODY      ... and its body contains this text
--   BENCH_EXPECT_HEADER    ... and has this header ("Name: value", the value as a substring)
--   BENCH_COUNT_BODY       count the successes whose body contains this text
--   BENCH_SAMPLES          keep up to this many cookie values (spread over the run)
-- done() prints one line `BENCHJSON {...}`: counts, wrk's socket errors, and latency quantiles
-- (µs) on a uniform grid so that runs can be merged; then the sampled cookie values.

local function env(name, default)
  local v = os.getenv(name)
  if v == nil or v == "" then return default end
  return v
end

wrk.method = env("BENCH_METHOD", "GET")
local body = env("BENCH_BODY", nil)
if body then wrk.body = body end
local content_type = env("BENCH_CONTENT_TYPE", nil)
if content_type then wrk.headers["Content-Type"] = content_type end
local origin = env("BENCH_ORIGIN", nil)
if origin then wrk.headers["Origin"] = origin end
local cookie = env("BENCH_COOKIE", nil)
if cookie then wrk.headers["Cookie"] = cookie end

local xff = env("BENCH_XFF", "0") == "1"
local ip_base = tonumber(env("BENCH_IP_BASE", "1"))
local expect_status = tonumber(env("BENCH_EXPECT_STATUS", "0"))
local expect_cookie = env("BENCH_EXPECT_COOKIE", nil)
local expect_body = env("BENCH_EXPECT_BODY", nil)
local expect_header_name, expect_header_value = nil, nil
local expect_header = env("BENCH_EXPECT_HEADER", nil)
if expect_header then
  expect_header_name, expect_header_value = string.match(expect_header, "^([^:]+):%s*(.*)$")
end
local count_body = env("BENCH_COUNT_BODY", nil)
local sample_max = tonumber(env("BENCH_SAMPLES", "0"))
local grid = tonumber(env("BENCH_QUANTILES", "400"))

local threads = {}
local next_tid = 0

function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
  table.insert(threads, thread)
end

function init(args)
  ok = 0; s1 = 0; s2 = 0; s3 = 0; s4 = 0; s5 = 0
  counted = 0
  sent = 0
  samples = ""
  nsamples = 0
end

if xff then
  -- 24 bits per run: thread id in the top 4, a counter below; BENCH_IP_BASE differs per run.
  function request()
    sent = sent + 1
    local v = (tid * 1048576 + sent) % 16777216
    wrk.headers["X-Forwarded-For"] = ip_base .. "." .. math.floor(v / 65536) .. "." .. (math.floor(v / 256) % 256) .. "." .. (v % 256)
    return wrk.format()
  end
end

function response(status, headers, resp_body)
  if status < 200 then s1 = s1 + 1
  elseif status < 300 then s2 = s2 + 1
  elseif status < 400 then s3 = s3 + 1
  elseif status < 500 then s4 = s4 + 1
  else s5 = s5 + 1 end

  if expect_status ~= 0 and status ~= expect_status then return end
  local value = nil
  if expect_cookie then
    local c = headers["Set-Cookie"]
    if c == nil then return end
    value = string.match(c, "^" .. expect_cookie .. "=([^;]+)")
    -- wrk keeps only the last Set-Cookie line: a guest's session cookie is followed by its trace
    -- cookie (<name>_guest), which is only written beside a session cookie. Counted, not sampled.
    if value == nil and string.match(c, "^" .. expect_cookie .. "_guest=[^;]+") == nil then return end
  end
  if expect_body and (resp_body == nil or string.find(resp_body, expect_body, 1, true) == nil) then return end
  if expect_header_name then
    local h = headers[expect_header_name]
    if h == nil or string.find(h, expect_header_value, 1, true) == nil then return end
  end
  ok = ok + 1
  if count_body and resp_body ~= nil and string.find(resp_body, count_body, 1, true) ~= nil then
    counted = counted + 1
  end
  if value and nsamples < sample_max and ok % 101 == 1 then
    nsamples = nsamples + 1
    samples = samples .. value .. "\n"
  end
end

function done(summary, latency, requests)
  local t = { ok = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, counted = 0 }
  local all_samples = ""
  for _, thread in ipairs(threads) do
    for k, _ in pairs(t) do t[k] = t[k] + thread:get(k) end
    all_samples = all_samples .. thread:get("samples")
  end
  local q = {}
  if summary.requests > 0 then
    for k = 1, grid do q[k] = string.format("%d", latency:percentile((k - 0.5) * 100 / grid)) end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_us":%d,"ok":%d,"counted":%d,"s1xx":%d,"s2xx":%d,"s3xx":%d,"s4xx":%d,"s5xx":%d,' ..
    '"socket":{"connect":%d,"read":%d,"write":%d,"timeout":%d},"quantiles_us":[%s]}\n',
    summary.requests, summary.duration, t.ok, t.counted, t.s1, t.s2, t.s3, t.s4, t.s5,
    e.connect, e.read, e.write, e.timeout, table.concat(q, ",")))
  io.write("BENCHSAMPLES\n" .. all_samples .. "BENCHSAMPLES END\n")
end
