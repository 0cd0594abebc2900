-- wrk script for the closed-loop ingest benchmark: posts the envelope in $PIT_ENVELOPE with a
-- unique event id per request (pitd stores every event, and a repeated id is a duplicate).
-- The placeholder id 0123456789abcdef0123456789abcdef is replaced everywhere it occurs.
-- `thread_id` is a global set by setup() in each thread's own Lua state.
local placeholder = "0123456789abcdef0123456789abcdef"
local threads = {}
local counter = 0
local parts = {}

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  local file = assert(io.open(os.getenv("PIT_ENVELOPE"), "rb"))
  local body = file:read("*a")
  file:close()
  local start = 1
  while true do
    local i, j = string.find(body, placeholder, start, true)
    if not i then break end
    table.insert(parts, string.sub(body, start, i - 1))
    start = j + 1
  end
  table.insert(parts, string.sub(body, start))
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-sentry-envelope"
  wrk.headers["X-Sentry-Auth"] = "Sentry sentry_key=" .. os.getenv("PIT_KEY") .. ", sentry_version=7, sentry_client=wrk/1.0"
end

function request()
  counter = counter + 1
  local id = string.format("%08x%08x%016x", os.time() % 0xffffffff, thread_id or 0, counter)
  return wrk.format(nil, nil, nil, table.concat(parts, id))
end
