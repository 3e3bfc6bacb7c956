-- wrk script of `python -m bench`: POSTs GraphQL bodies prepared by bench/wrk.py to /graphql.
--
-- Argument (after wrk's `--`): the path of a bodies file. Its first line is the bearer token,
-- each further line one JSON request body. A body may hold @ID@, replaced on every request by
-- a unique value (the run's prefix, the thread's number and the thread's request counter), so
-- that every order gets its own externalId. Each thread starts at its own place in the file.
--
-- done() prints one line, `wrk-result {json}`: the request count, the duration, p50/p99 in
-- microseconds, wrk's socket errors, non-2xx answers, and the bodies that carried userErrors or
-- top-level errors; plus, every SAMPLE_EVERY responses, the first `"id"` and `externalId` of
-- the body, so the bench can check afterwards that those orders exist.

local SAMPLE_EVERY = 25
local threads = {}
local next_number = 0

function setup(thread)
  thread:set("number", next_number)
  next_number = next_number + 1
  table.insert(threads, thread)
end

function init(args)
  bodies = {}
  local lines = io.lines(args[1])
  token = lines()
  for line in lines do
    table.insert(bodies, line)
  end
  prefix = args[2] or ""
  position = number
  sent = 0
  answered = 0
  non_2xx = 0
  user_errors = 0
  graphql_errors = 0
  samples = {}
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. token
end

function request()
  local body = bodies[(position % #bodies) + 1]
  position = position + 1
  sent = sent + 1
  body = body:gsub("@ID@", prefix .. number .. "-" .. sent)
  return wrk.format(nil, "/graphql", nil, body)
end

function response(status, headers, body)
  answered = answered + 1
  if status < 200 or status > 299 then
    non_2xx = non_2xx + 1
    return
  end
  if body:find('"userErrors"%s*:%s*%[%s*{') then
    user_errors = user_errors + 1
  end
  if body:find('"errors"%s*:%s*%[') then
    graphql_errors = graphql_errors + 1
  end
  if answered % SAMPLE_EVERY == 0 then
    local id = body:match('"id"%s*:%s*"([^"]+)"')
    local external = body:match('"externalId"%s*:%s*"([^"]+)"')
    if id then
      table.insert(samples, string.format('["%s","%s"]', id, external or ""))
    end
  end
end

function done(summary, latency, requests)
  local non_2xx_total, user_total, errors_total, sampled = 0, 0, 0, {}
  for _, thread in ipairs(threads) do
    non_2xx_total = non_2xx_total + thread:get("non_2xx")
    user_total = user_total + thread:get("user_errors")
    errors_total = errors_total + thread:get("graphql_errors")
    for _, sample in ipairs(thread:get("samples")) do
      table.insert(sampled, sample)
    end
  end
  local e = summary.errors
  io.write(string.format(
    'wrk-result {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"socket_errors":%d,"timeouts":%d,"non_2xx":%d,"user_errors":%d,"graphql_errors":%d,' ..
    '"samples":[%s]}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, e.connect + e.read + e.write, e.timeout, non_2xx_total, user_total,
    errors_total, table.concat(sampled, ",")))
end
