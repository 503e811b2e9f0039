-- wrk script: the directory search at random points of Milan, 2 km, one category per request.
-- CATEGORIES is filled in by scripts/bench with taxonomy term ids from the running server.
local categories = { CATEGORIES }
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("seed", counter * 7919)
end

function init(args)
  math.randomseed(seed or 1)
end

function request()
  local lat = 45.43 + math.random() * 0.07
  local lon = 9.13 + math.random() * 0.11
  local c = categories[math.random(#categories)]
  local path = string.format("/hsds/services?lat=%.5f&lon=%.5f&radius_km=2&taxonomy_term_id=%s&per_page=10", lat, lon, c)
  return wrk.format("GET", path)
end

function response(status, headers, body)
  if status ~= 200 then
    print("unexpected status " .. status)
  end
end
