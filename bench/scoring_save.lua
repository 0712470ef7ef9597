-- wrk script for bench/scoring.py: every connection saves its own judge's draft sheet again
-- and again, sending the version its previous save returned (as the scoring page does).
--
--   KIPP_WRK_TARGETS=targets.tsv wrk -t N -c N -d 20s -s bench/scoring_save.lua http://127.0.0.1:PORT
--
-- One connection per thread (-t N -c N): thread i takes line i of the targets file, tab-separated:
--   path  cookie  csrf-token  version  user-agent  aspect keys (comma-separated)
-- done() prints one line "WRKJSON {...}" with the counts and latency percentiles (microseconds).

local targets = {}
local threads = {}

function setup(thread)
  if #targets == 0 then
    local path = os.getenv("KIPP_WRK_TARGETS")
    assert(path, "KIPP_WRK_TARGETS not set")
    local file = assert(io.open(path, "r"))
    for line in file:lines() do
      local fields = {}
      for field in (line .. "\t"):gmatch("([^\t]*)\t") do
        fields[#fields + 1] = field
      end
      targets[#targets + 1] = fields
    end
    file:close()
  end
  local index = #threads + 1
  local target = assert(targets[index], "more threads than lines in the targets file")
  thread:set("target_path", target[1])
  thread:set("target_cookie", target[2])
  thread:set("target_csrf", target[3])
  thread:set("target_version", target[4])
  thread:set("target_agent", target[5])
  thread:set("target_keys", target[6])
  thread:set("thread_index", index)
  threads[index] = thread
end

function init(args)
  version = tonumber(target_version)
  ok_count, stale_count, other_count, unparsed_count = 0, 0, 0, 0
  last_other = ""
  keys = {}
  for key in target_keys:gmatch("[^,]+") do
    keys[#keys + 1] = key
  end
  math.randomseed(os.time() + thread_index * 7919)
  headers = {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-Requested-With"] = "fetch",
    ["User-Agent"] = target_agent,
  }
  if target_cookie ~= "" then headers["Cookie"] = target_cookie end
  if target_csrf ~= "" then headers["X-CSRFToken"] = target_csrf end
end

function request()
  local parts = { "version=" .. version }
  for _, key in ipairs(keys) do
    parts[#parts + 1] = "score-" .. key .. "=" .. math.random(45, 95)
    parts[#parts + 1] = "comment-" .. key .. "=Sudah+dijelaskan+dengan+data+sebelum+dan+sesudah+inovasi"
  end
  parts[#parts + 1] = "comment=Catatan+umum+penilai+" .. math.random(1, 1000)
  return wrk.format("POST", target_path, headers, table.concat(parts, "&"))
end

function response(status, response_headers, body)
  local found = body and body:match('"version"%s*:%s*(%d+)')
  if status == 200 then
    if found then
      version = tonumber(found)
      ok_count = ok_count + 1
    else
      unparsed_count = unparsed_count + 1
    end
  elseif status == 409 then
    stale_count = stale_count + 1
    if found then version = tonumber(found) end
  else
    other_count = other_count + 1
    last_other = tostring(status) .. " " .. (body or ""):sub(1, 120):gsub('[%c"\\]', " ")
  end
end

function done(summary, latency, requests)
  local ok, stale, other, unparsed, sample = 0, 0, 0, 0, ""
  for _, thread in ipairs(threads) do
    ok = ok + (thread:get("ok_count") or 0)
    stale = stale + (thread:get("stale_count") or 0)
    other = other + (thread:get("other_count") or 0)
    unparsed = unparsed + (thread:get("unparsed_count") or 0)
    local last = thread:get("last_other") or ""
    if last ~= "" then sample = last end
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "ok": %d, "stale": %d, "other": %d, "unparsed": %d, ' ..
    '"p50": %d, "p90": %d, "p95": %d, "p99": %d, "max": %d, "mean": %.1f, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, "sample_other": "%s"}\n',
    summary.requests, summary.duration, ok, stale, other, unparsed,
    latency:percentile(50), latency:percentile(90), latency:percentile(95), latency:percentile(99),
    latency.max, latency.mean, e.connect, e.read, e.write, e.status, e.timeout, sample))
end
