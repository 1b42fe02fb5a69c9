-- bench/checkin.lua: wrk script for POST /device/v1/checkin from many devices.
--
-- CHECKIN_DATA names a file of one line per enrolled device:
--   <device token> TAB <check-in body>
-- where the body is the device's real inventory,
--   {"installed":[{"profile_id":..,"sha256":..} x 3]}
-- (bench/run.sh exports it from the seeded fleet). Thread k of n walks the
-- fleet device after device from k/n of the way in (CHECKIN_THREADS = n),
-- so every request comes from another device and a long run touches the
-- whole fleet, not a cached handful.

local data_file = os.getenv("CHECKIN_DATA")
local threads_total = tonumber(os.getenv("CHECKIN_THREADS") or "1")
local next_id = 0

function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
end

-- Every request is formatted once, here: formatting it per request in Lua
-- would add to wrk's CPU per request, CPU taken from the server and
-- PostgreSQL on the same machine.
function init(args)
  requests = {}
  local headers = { ["Content-Type"] = "application/json" }
  for line in io.lines(data_file) do
    local tab = line:find("\t", 1, true)
    headers["Authorization"] = "Bearer " .. line:sub(1, tab - 1)
    requests[#requests + 1] =
      wrk.format("POST", "/device/v1/checkin", headers, line:sub(tab + 1))
  end
  count = #requests
  -- spread the threads' starting points over the fleet
  idx = math.floor(thread_id * count / threads_total)
end

function request()
  local i = idx % count + 1
  idx = idx + 1
  return requests[i]
end
