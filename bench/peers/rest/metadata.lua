-- wrk script for the REST peer: GET /metadata/{id} with an id drawn at random
-- from the ids file named after `--` (one id per line, as the peers write it).
local ids = {}

function init(args)
  local path = args[1] or error("usage: wrk ... -s metadata.lua URL -- IDS_FILE")
  for line in io.lines(path) do
    if #line > 0 then ids[#ids + 1] = line end
  end
  assert(#ids > 0, "no ids in " .. path)
  math.randomseed(os.time() + tonumber(tostring(ids):match("0x(%x+)") or "0", 16))
end

function request()
  return wrk.format("GET", "/metadata/" .. ids[math.random(#ids)])
end
