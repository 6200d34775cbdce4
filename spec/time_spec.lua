-- konnect.time, public API (docs/API.md): the RFC 3339 forms it reads, the
-- os.time local-time trap it avoids, and relative(): the one "in N days" that
-- the CLI and examples/list.lua both print, checked at its boundaries.
local time = require "konnect.time"
local fake = require "support.fake"
local h = require "support.cli"

local DAY = 86400
local NOW = 1780000000 -- 2026-05-28T20:26:40Z

describe("konnect.time", function()
  describe("rfc3339", function()
    it("reads Z, z, offsets, t, and fractions of any length (dropped)", function()
      local base = time.civil(2030, 1, 31, 0, 0, 0)
      for _, c in ipairs {
        { "2030-01-31T00:00:00Z", 0 }, { "2030-01-31t00:00:00z", 0 }, { "2030-01-31T00:00:00.927Z", 0 },
        { "2030-01-31T00:00:00.123456789Z", 0 }, { "2030-01-31T01:00:00+01:00", 0 },
        { "2030-01-30T19:30:00-04:30", 0 }, { "2030-01-31T00:00:59.999Z", 59 },
        { "2030-01-31T00:00:00+00:00", 0 }, { "2030-01-31T00:00:00-00:00", 0 },
      } do
        assert.equal(base + c[2], time.rfc3339(c[1]), c[1])
      end
    end)

    it("refuses what is not a full RFC 3339 date-time, with a reason", function()
      for _, s in ipairs { "2030-01-31", "2030-01-31T00:00:00", "2030-01-31 00:00:00Z", "2030-01-31T00:00Z",
                           "2030-02-30T00:00:00Z", "2030-01-31T24:00:00Z", "2030-01-31T00:00:00.Z",
                           "2030-01-31T00:00:00+24:00", "1706000000", "", 1706000000 } do
        local v, why = time.rfc3339(s)
        assert.is_nil(v, tostring(s))
        assert.is_string(why)
      end
    end)
    it("knows leap years (Gregorian: every 4th, not every 100th, every 400th) and offsets up to 23:59", function()
      for s, want in pairs {
        ["2024-02-29T00:00:00Z"] = 1709164800, ["2000-02-29T00:00:00Z"] = 951782400,
        ["2030-01-31T00:00:00+00:59"] = 1896048000 - 59 * 60, ["2030-01-31T00:00:00-23:59"] = 1896048000 + 86340,
      } do
        assert.equal(want, time.rfc3339(s), s)
      end
      for _, s in ipairs { "2023-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2100-02-29T00:00:00Z",
                           "2030-01-31T00:00:00+00:60", "x2030-01-31T00:00:00Z" } do
        assert.is_nil(time.rfc3339(s), s)
      end
    end)

    it("is UTC whatever TZ says: os.time{…} (local time) would be off by the zone's offset", function()
      local script = [[
        local time = require "konnect.time"
        local t = time.rfc3339("2030-06-01T12:00:00Z")
        local naive = os.time { year = 2030, month = 6, day = 1, hour = 12, min = 0, sec = 0 }
        print(t, t - naive)
      ]]
      local tmp = os.tmpname()
      h.spit(tmp, script)
      for _, tz in ipairs { "UTC", "America/New_York", "Asia/Kolkata" } do
        local p = io.popen("TZ=" .. tz .. " " .. h.LUA .. " " .. tmp)
        local out = p:read("*a")
        p:close()
        local t, skew = out:match("^(%-?%d+)%s+(%-?%d+)")
        assert.equal(time.civil(2030, 6, 1, 12, 0, 0), tonumber(t), tz)
        if tz == "UTC" then assert.equal(0, tonumber(skew)) else assert.not_equal(0, tonumber(skew), tz) end
      end
      os.remove(tmp)
    end)
  end)

  describe("http_date", function()
    it("reads an IMF-fixdate, white space around it allowed, and nothing before or after it", function()
      assert.equal(784111777, time.http_date("Sun, 06 Nov 1994 08:49:37 GMT"))
      assert.equal(1445412480, time.http_date("  Wed, 21 Oct 2015 07:28:00 GMT \t"))
      assert.equal(-86400, time.http_date("Wed, 31 Dec 1969 00:00:00 GMT"))
      for _, bad in ipairs { "soon Wed, 21 Oct 2015 07:28:00 GMT", "Wed, 21 Oct 2015 07:28:00 GMT or later",
                             "Wed, 21 Oct 2015 07:28:00 UTC", "Wed, 21 Foo 2015 07:28:00 GMT",
                             "Wed, 31 Feb 2015 07:28:00 GMT", "Wednesday, 21-Oct-15 07:28:00 GMT", "", 1445412480 } do
        assert.is_nil(time.http_date(bad), tostring(bad))
      end
    end)
  end)

  describe("relative", function()
    it("rounds to the nearest unit; the boundaries", function()
      for _, c in ipairs {
        { 0, "just now" }, { 1, "just now" }, { 2, "in under a minute" }, { 59, "in under a minute" },
        { 60, "in 1 minute" }, { 89, "in 1 minute" }, { 90, "in 2 minutes" }, { 3599, "in 60 minutes" },
        { 3600, "in 1 hour" }, { 2 * DAY - 1, "in 48 hours" }, { 2 * DAY, "in 2 days" },
        { 7 * DAY - 1, "in 7 days" }, { 7 * DAY - 3600, "in 7 days" }, { 6.5 * DAY, "in 7 days" },
        { 6.5 * DAY - 1, "in 6 days" }, { 730 * DAY - 1, "in 730 days" }, { 730 * DAY, "in 2 years" },
        { -59, "just now" }, { -60, "1 minute ago" }, { -7 * DAY + 1, "7 days ago" },
        { -2 * DAY + 1, "48 hours ago" },
        -- the halfway points of an hour and a year
        { 5399, "in 1 hour" }, { 5400, "in 2 hours" }, { -5399, "1 hour ago" },
        { 912.5 * DAY - 1, "in 2 years" }, { 912.5 * DAY, "in 3 years" },
      } do
        assert.equal(c[2], time.relative(time.iso(NOW + c[1]), NOW), tostring(c[1]))
        assert.equal(c[2], time.relative(NOW + c[1], NOW), tostring(c[1]) .. " (epoch)")
      end
    end)

    it("honours offsets and fractions; nil and the reason for what is no date", function()
      assert.equal("in 7 days", time.relative("2026-06-04T22:26:40.999+02:00", NOW))
      local v, why = time.relative("soon-ish", NOW)
      assert.is_nil(v)
      assert.is_string(why)
      assert.is_nil(time.relative(nil, NOW))
    end)
  end)
end)

describe("the CLI and examples/list.lua say the same for the same token", function()
  before_each(function() fake.reset() end)

  it("a token of 7 days, 36 hours, 1 day, and one already expired", function()
    local client = fake.client()
    local ids = {}
    for _, c in ipairs { { "week", 7 * DAY }, { "day-and-half", 36 * 3600 }, { "day", DAY }, { "dead", DAY } } do
      ids[c[1]] = assert(client:create("me", { name = c[1], ttl_seconds = c[2] })).id
    end
    fake.expire(ids.dead)
    local r = h.cli({ "list" })
    assert.equal(0, r.code, r.err)
    local cli_says = {}
    for name, id in pairs(ids) do
      cli_says[name] = assert(r.out:match(id:gsub("%-", "%%-") .. "  %u+ +(.-)  "), r.out)
    end
    assert.equal("in 7 days", cli_says.week)
    assert.equal("in 36 hours", cli_says["day-and-half"])
    local p = io.popen("cd " .. h.q(h.ROOT) .. " && env LUA_PATH=';;' LUA_CPATH=';;' KONNECT_TOKEN=" ..
      h.q(fake.ALICE_TOKEN) .. " KONNECT_SERVER_URL=" .. h.q(fake.http) .. " " .. h.LUA .. " examples/list.lua 2>&1")
    local out = p:read("*a")
    p:close()
    for _, name in ipairs { "week", "day-and-half", "day", "dead" } do
      local id = ids[name]
      local example_says = out:match(id:gsub("%-", "%%-") .. "  %u+%s+(.-)%s%s+" .. name:gsub("%-", "%%-"))
      assert.equal(cli_says[name], example_says, name .. ":\n" .. out .. "\n" .. r.out)
    end
  end)
end)
