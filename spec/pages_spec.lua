-- Users and the paged lists (konnect.pages) against the fake Konnect, over
-- real sockets: list_* fetches every page up to a cap, each_* page by page;
-- both stop at an empty page or one shorter than the size the server says it
-- used, whatever meta.page.total means (the fake can count objects or pages);
-- filters per list as the contract gives them; every request and answer
-- checked against spec/konnect-tokens-openapi.yaml.
local errors = require "konnect.errors"
local json = require "konnect.json"
local fake = require "support.fake"
local contract = require "support.contract_check"

local USERS = "GET /v3/users"

local function ids(list)
  local out = {}
  for i, x in ipairs(list) do out[i] = x.id end
  return out
end

describe("paged lists", function()
  local check, admin
  before_each(function()
    fake.reset()
    check = contract.new()
    admin = fake.client { token = fake.ADMIN_TOKEN, hooks = check.hooks }
  end)
  after_each(function() assert.same({}, check.violations) end)

  it("list_users: every user, in order, 100 a page: ten full pages and an empty one", function()
    local all, err, meta = admin:list_users()
    assert.is_nil(err)
    assert.equal(1000, #all.data)
    assert.equal(11, all.pages)
    assert.equal(11, fake.count(USERS))
    assert.equal("list-users", meta.operation)
    local st = fake.state()
    assert.same(ids(st.users), ids(all.data))
    assert.is_nil(all.data[1].admin, "the contract's User fields only")
  end)

  it("the same whatever meta.page.total counts (objects or pages), and with a short last page", function()
    local by_objects = assert(admin:list_users { page_size = 30 })
    fake.paging { total = "pages" }
    local by_pages = assert(admin:list_users { page_size = 30 })
    assert.equal(1000, #by_pages.data)
    assert.same(ids(by_objects.data), ids(by_pages.data))
    assert.equal(34, by_pages.pages, "33 full pages of 30, a short one of 10")
    fake.reset { users = 250 }
    assert.equal(250, #assert(admin:list_users()).data)
    assert.equal(3, fake.count(USERS), "100, 100, then 50: no empty page asked for")
  end)

  it("a server serving fewer than asked (and saying so in meta.page.size) is read to the end", function()
    fake.paging { max_size = 40 }
    local all = assert(admin:list_users { page_size = 100 })
    assert.equal(1000, #all.data)
    assert.equal(26, all.pages)
    fake.paging { max_size = 40, over_max = "reject" }
    local _, err = admin:list_users { page_size = 100 }
    assert.equal("bad_request", err.kind)
  end)

  it("list_* stops at max_pages with too_large, pointing to each_* and filters", function()
    local _, err = admin:list_users { max_pages = 3 }
    assert.equal("too_large", err.kind)
    assert.matches("more than 3 pages of 100", err.message, 1, true)
    assert.matches("each_user", err.message, 1, true)
    assert.equal(3, fake.count(USERS))
    -- ten full pages fit in max_pages = 11
    assert.equal(1000, #assert(admin:list_users { max_pages = 11 }).data)
    local _, big = admin:list_users { max_pages = 10001 }
    assert.equal("invalid_argument", big.kind)
  end)

  it("each_user walks page by page and stops when the caller stops", function()
    local n = 0
    for user, err in admin:each_user { page_size = 50 } do
      assert.is_nil(err)
      assert.is_string(user.id)
      n = n + 1
      if n == 120 then break end
    end
    assert.equal(120, n)
    assert.equal(3, fake.count(USERS), "only the pages it needed")
  end)

  it("each_user's error path: false and the error once, then the end", function()
    local got, errs = 0, {}
    local walk = admin:each_user { page_size = 100 }
    while true do
      local user, err = walk()
      if user == nil then break end
      if user == false then
        errs[#errs + 1] = err
      else
        got = got + 1
        -- the third page fails (every attempt)
        if got == 200 then fake.fault { method = "GET", path = "^/v3/users$", status = 500, count = 3 } end
      end
    end
    assert.equal(200, got)
    assert.equal(1, #errs)
    assert.equal("server", errs[1].kind)
    assert.equal(3, errs[1].attempts)
    assert.is_nil(walk(), "it stays ended")
    -- a bad query: the one error is the first thing it yields, before any request
    local before = fake.requests().total
    local bad = admin:each_user { filter = { role = { eq = "admin" } } }
    local v, e = bad()
    assert.is_false(v)
    assert.equal("invalid_argument", e.kind)
    assert.matches("cannot filter on role", e.message, 1, true)
    assert.is_nil(bad())
    assert.equal(before, fake.requests().total)
  end)

  it("a batch may fetch one page; a server that ignores page[number] is caught, not walked forever", function()
    local results = assert(admin:batch { { "users_page", { page_size = 5, page_number = 2 } } })
    local page2 = results[1].value
    assert.equal(5, #page2.data)
    assert.equal(2, page2.meta.page.number)
    -- from now on every page is that one
    fake.fault { method = "GET", path = "^/v3/users$", count = 5, body = json.encode(page2) }
    local _, err = admin:list_users { page_size = 5 }
    assert.equal("decode", err.kind)
    assert.matches("page 2 starts with the same item as page 1", err.message, 1, true)
    assert.equal(3, fake.count(USERS))
  end)

  it("a filter's value is percent-encoded except RFC 3986's unreserved characters (- . _ ~)", function()
    local urls = {}
    local seen = fake.client { token = fake.ADMIN_TOKEN,
                               hooks = { before_request = function(r) urls[#urls + 1] = r.url end } }
    assert(seen:list_users { filter = { email = { eq = "a~b-c.d_e f+g@x.test" } } })
    assert.matches("?filter%5Bemail%5D%5Beq%5D=a~b-c.d_e%20f%2Bg%40x.test&", urls[1], 1, true)
  end)

  it("filters: the contract's per list, eq or contains, booleans; sent as filter[f][op]", function()
    local inactive = assert(admin:list_users { filter = { active = false } })
    assert.equal(48, #inactive.data)
    for _, u in ipairs(inactive.data) do assert.is_false(u.active) end
    local bob = assert(admin:list_users { filter = { email = { eq = "bob@example.test" } } })
    assert.same({ fake.BOB }, ids(bob.data))
    local zoe = assert(admin:list_users { filter = { full_name = { contains = "Zoë" }, active = true } })
    assert.is_true(#zoe.data > 0)
    for _, u in ipairs(zoe.data) do assert.matches("Zoë", u.full_name, 1, true) end
    assert.same({ fake.ALICE }, ids(assert(admin:list_users { filter = { id = { eq = fake.ALICE } } }).data))
    local managed = assert(admin:list_system_accounts { filter = { konnect_managed = true } })
    for _, a in ipairs(managed.data) do assert.is_true(a.konnect_managed) end
    -- id takes eq only; names of filters each list does not have are refused, before any request
    local before = fake.requests().total
    for _, q in ipairs {
      { filter = { id = { contains = "0000" } } }, { filter = { name = { eq = "x" } } },
      { filter = { active = "yes" } },
      { filter = { email = { eq = "" } } }, { page_size = 1001 }, { page_size = 2.5 }, "all", { filter = "active" },
    } do
      local _, err = admin:list_users(q)
      assert.is_true(errors.is(err, "invalid_argument"), tostring(err))
    end
    assert.equal(before, fake.requests().total)
    assert.matches("filter%5Bfull_name%5D%5Bcontains%5D=Zo%C3%AB", table.concat(check.urls, " "), 1, true)
  end)

  it("a system account's tokens, page by page", function()
    for i = 1, 12 do
      assert(admin:create_sa_token(fake.SYSTEM_ACCOUNT, { name = "t" .. i, expires_at = "2031-01-01T00:00:00Z" }))
    end
    local all = assert(admin:list_sa_tokens(fake.SYSTEM_ACCOUNT, { page_size = 5 }))
    assert.equal(12, #all.data)
    assert.equal(3, all.pages)
    local names = {}
    for t in admin:each_sa_token(fake.SYSTEM_ACCOUNT, { page_size = 5, filter = { name = { contains = "t1" } } }) do
      names[#names + 1] = t.name
    end
    assert.same({ "t1", "t10", "t11", "t12" }, names)
  end)

  describe("get_user", function()
    it("by id and as \"me\"; 404; the id checked first", function()
      local bob = assert(admin:get_user(fake.BOB))
      assert.equal("bob@example.test", bob.email)
      assert.equal(fake.ADMIN, assert(admin:get_user("me")).id)
      local _, err = admin:get_user(fake.MISSING)
      assert.equal("not_found", err.kind)
      assert.equal(404, err.status)
      local _, bad = admin:get_user("../me")
      assert.equal("invalid_argument", bad.kind)
      -- a second id where the per-call options go (both ids already seen): refused, not a URL of two ids
      _, bad = admin:get_user(fake.BOB, fake.MISSING)
      assert.equal("invalid_argument", bad.kind)
      assert.matches("per-call options must be a table", bad.message, 1, true)
      assert.equal(1, fake.count("GET /v3/users/" .. fake.MISSING))
    end)

    it("any user may read users (the fake's choice); the service token may not", function()
      assert(fake.client { hooks = check.hooks }:get_user(fake.BOB))
      local _, err = fake.client { token = fake.SERVICE_TOKEN, hooks = check.hooks }:list_users()
      assert.equal("forbidden", err.kind)
    end)
  end)
end)
