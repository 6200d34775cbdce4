-- scripts/mutants.lua: the hand-picked mutants of `MUTANTS=list make mutate` (scripts/mutate_list.sh),
-- a regression set; the score that counts is the sampled one (scripts/mutate.sh).
--
-- Each mutant is one realistic mistake a developer could make and ship: a
-- plain-text edit `from` -> `to` of `file` (or `edits = { {from, to}, ... }`
-- when one mistake touches two spots), which must match exactly once.  When
-- the code moves on and a mutant no longer applies, `make mutate` stops:
-- update the mutant to the new code (the same mistake), never drop it.
--
-- `suites`, in the order they run (the first failing test kills the mutant):
--   busted:a,b   spec/a_spec.lua spec/b_spec.lua on Lua 5.4, against a fake Konnect
--   nginx        spec/nginx/run.sh (OpenResty: cosocket transport, batch, phases)
--   hostile:curl / hostile:cosocket   spec/hostile/run.sh on one transport
--   fuzz         spec/fuzz (the decoding fuzz)
-- `equivalent = "why"` marks a mutant shown to be equivalent (it cannot be killed).
--
-- Ids are stable: a new mutant takes the next free id.

-- suites by area
local VALIDATE = "busted:validate,pats"
local LIB = "busted:pats,hardening,errors,retry,limits,helpers"
local PIPE = "busted:resilience,retry,batch,pats"
local LIMITS = "busted:limits,pats,hardening"
local CORE = "busted:core,limits"
local CLI = "busted:cli,cli_files"
local MUT = "busted:mutants_lib,mutants_core,mutants_cli" -- the specs added for survivors of this list

return {
  ---------------------------------------------------------------------------
  -- the five survivors named by issue 10
  { id = 1, file = "lua/konnect/validate.lua", what = "the UUID pattern loses its ^ anchor (\"../../\" .. id passes)",
    from = [[local UUID = "^%x%x%x%x%x%x%x%x%-]], to = [[local UUID = "%x%x%x%x%x%x%x%x%-]],
    suites = { VALIDATE, MUT } },
  { id = 2, file = "lua/konnect/validate.lua", what = "CR and LF allowed inside token names",
    edits = {
      { [[    if cp < 32 or cp == 127 or (cp >= 0x80 and cp <= 0x9F) then]],
        [[    local line_break = cp == 10 or cp == 13
    if (cp < 32 and not line_break) or cp == 127 or (cp >= 0x80 and cp <= 0x9F) then]] },
      { [[if not alnum and not INNER_PUNCT[cp] then]],
        [[if not alnum and not INNER_PUNCT[cp] and not line_break then]] },
    },
    suites = { VALIDATE, "busted:hardening" } },
  { id = 3, file = "lua/konnect/batch.lua", what = "batch inside nginx ignores its concurrency limit",
    from = [[for k = 1, math.min(concurrency, #jobs) do]], to = [[for k = 1, #jobs do]],
    suites = { "nginx" } },
  { id = 4, file = "lua/konnect/transport/http1_read.lua",
    what = "cosocket: pools the connection without reading the chunked trailer (and final CRLF)",
    from = [[      local seen = 0
]], to = [[      do return concat(parts, "", 1, n), true end
      local seen = 0
]],
    suites = { "nginx", "hostile:cosocket" } },
  { id = 5, file = "lua/konnect/transport/cosocket.lua",
    what = "cosocket: pools the connection after a failed body read",
    from = [[    sock:close() -- never pooled: the rest of this response may still arrive]],
    to = [[    sock:setkeepalive(self.keepalive_ms, self.pool_size)]],
    suites = { "nginx", "hostile:cosocket" } },

  ---------------------------------------------------------------------------
  -- the rulebook (lua/konnect/limits.lua) and argument rules
  { id = 6, file = "lua/konnect/limits.lua", what = "loopback test loses its ^ anchor (x.127.0.0.1 counts as loopback)",
    from = [[find(host, "^127%.%d+%.%d+%.%d+$")]], to = [[find(host, "127%.%d+%.%d+%.%d+$")]],
    suites = { LIMITS, VALIDATE, MUT } },
  { id = 7, file = "lua/konnect/limits.lua", what = "a timeout of 0 accepted (<= 0 became < 0)",
    from = [[if not is_number(v) or v <= 0 or v > _M.MAX_TIMEOUT then]],
    to = [[if not is_number(v) or v < 0 or v > _M.MAX_TIMEOUT then]],
    suites = { LIMITS } },
  { id = 8, file = "lua/konnect/limits.lua", what = "DEL (0x7f) allowed in header values",
    from = [[if (c < 32 and c ~= 9) or c == 127 then return true end]],
    to = [[if c < 32 and c ~= 9 then return true end]],
    suites = { LIMITS } },
  { id = 9, file = "lua/konnect/limits.lua", what = "batch concurrency cap off by one (256 refused)",
    from = [[if not _M.is_integer(v) or v < 1 or v > _M.BATCH_MAX_CONCURRENCY then]],
    to = [[if not _M.is_integer(v) or v < 1 or v >= _M.BATCH_MAX_CONCURRENCY then]],
    suites = { LIMITS, PIPE } },
  { id = 10, file = "lua/konnect/limits.lua", what = "proxy = \"env\" reads HTTP_PROXY for http (httpoxy)",
    from = [[else v = get("http_proxy") end]], to = [[else v = get("http_proxy") or get("HTTP_PROXY") end]],
    suites = { LIMITS } },
  { id = 11, file = "lua/konnect/limits.lua",
    what = "NO_PROXY suffix match without the dot (evilexample.com matches example.com)",
    from = [[bare:sub(-#entry - 1) == "." .. entry]], to = [[bare:sub(-#entry) == entry]],
    suites = { LIMITS, MUT } },
  { id = 12, file = "lua/konnect/limits.lua", what = "ttl_seconds of exactly one day refused (< became <=)",
    from = [[if v < _M.TTL_MIN or v > _M.TTL_MAX then]], to = [[if v <= _M.TTL_MIN or v > _M.TTL_MAX then]],
    suites = { VALIDATE, LIMITS } },
  { id = 13, file = "lua/konnect/limits.lua", what = "whitespace allowed in the access token",
    from = [[if find(v, "[%s%c\127]") then]], to = [[if find(v, "[%c\127]") then]],
    suites = { VALIDATE, LIMITS, MUT } },
  { id = 14, file = "lua/konnect/validate.lua",
    what = "plain http to a remote host allowed unless allow_insecure_http = false",
    from = [[if scheme == "http" and not allow_insecure_http and not limits.loopback(host) then]],
    to = [[if scheme == "http" and allow_insecure_http == false and not limits.loopback(host) then]],
    suites = { VALIDATE, LIMITS } },

  ---------------------------------------------------------------------------
  -- redaction and errors
  { id = 15, file = "lua/konnect/redact.lua", what = "token-shaped strings (kpat_/spat_) no longer masked",
    from = [[  s = gsub(s, "([ks]pat_)[%w_]+", "%1" .. MASK)
]], to = "",
    suites = { LIB, MUT, "hostile:curl" } },
  { id = 16, file = "lua/konnect/redact.lua", what = "percent-encoded secret caught only with lower-case hex",
    from = [[local hex = lower(sub(s, i + 1, i + 2))]], to = [[local hex = sub(s, i + 1, i + 2)]],
    suites = { LIB, "hostile:curl" } },
  { id = 17, file = "lua/konnect/redact.lua",
    what = "base64 of the secret caught at one alignment only (misses Bearer <secret>)",
    from = [[for k = 0, 2 do]], to = [[for k = 0, 0 do]],
    suites = { LIB, "hostile:curl" } },
  { id = 18, file = "lua/konnect/errors.lua", what = "err.request_id not redacted",
    from = [["instance", "request_id", "url", "trace_id" }]], to = [["instance", "url", "trace_id" }]],
    suites = { LIB, "hostile:curl" } },
  { id = 19, file = "lua/konnect/errors.lua", what = "invalid_parameters kept raw (redaction call removed)",
    from = [[e.invalid_parameters = redact.value(e.invalid_parameters, secret) end]],
    to = [[e.invalid_parameters = e.invalid_parameters end]],
    suites = { LIB, "hostile:curl" } },
  { id = 20, file = "lua/konnect/errors.lua", what = "HTTP 500 mapped to kind http instead of server",
    from = [[if status >= 500 and status <= 599 then return "server" end]],
    to = [[if status > 500 and status <= 599 then return "server" end]],
    suites = { LIB, PIPE } },
  { id = 21, file = "lua/konnect/errors.lua", what = "a transport's unknown or HTTP kind passed through (not network)",
    from = [[if type(kind) ~= "string" or KINDS[kind] ~= false then kind = "network" end]],
    to = [[if type(kind) ~= "string" then kind = "network" end]],
    suites = { LIB, PIPE, MUT } },
  { id = 22, file = "lua/konnect/http.lua", what = "after_response hook sees raw response headers",
    from = [[headers = res and redact_headers(res.headers, secret),]], to = [[headers = res and res.headers,]],
    suites = { LIB, "hostile:curl" } },
  { id = 23, file = "lua/konnect/http.lua", what = "before_request hook sees the raw Authorization header",
    from = [[headers = redact_headers(req.headers, secret), body = redact_string(req.body, secret),]],
    to = [[headers = req.headers, body = redact_string(req.body, secret),]],
    suites = { LIB } },

  ---------------------------------------------------------------------------
  -- the pipeline: retries, replays, batches
  { id = 24, file = "lua/konnect/http.lua", what = "a POST (create) may be replayed by the transport (once = false)",
    from = [[once = not op.idempotent,]], to = [[once = false,]],
    suites = { PIPE, CORE, "nginx" } },
  { id = 25, file = "lua/konnect/http.lua",
    what = "a resent request no longer makes a later 404 on delete ambiguous (line dropped)",
    from = [[    if res.resent then call.ambiguous = true end
]], to = "",
    suites = { PIPE, "nginx" } },
  { id = 26, file = "lua/konnect/http.lua", what = "max_elapsed ignores the wait it is about to sleep",
    from = [[give_up = total + wait > policy.max_elapsed]],
    to = [[give_up = total > policy.max_elapsed]],
    suites = { PIPE, MUT } },
  { id = 27, file = "lua/konnect/retry.lua", what = "a create retried on 5xx (second token minted)",
    from = [[return RETRY_STATUS[res.status] == true and (idempotent or res.status == 429)]],
    to = [[return RETRY_STATUS[res.status] == true]],
    suites = { PIPE } },
  { id = 28, file = "lua/konnect/retry.lua", what = "a create retried after a timeout although the request was sent",
    from = [[return terr.sent == false and (terr.kind == "connect" or terr.kind == "timeout")]],
    to = [[return terr.kind == "connect" or terr.kind == "timeout"]],
    suites = { PIPE } },
  { id = 29, file = "lua/konnect/retry.lua", what = "Retry-After not clamped to retries.max",
    from = [[return retry_after < policy.max and retry_after or policy.max]], to = [[return retry_after]],
    suites = { PIPE } },
  { id = 30, file = "lua/konnect/retry.lua", what = "409 Conflict retried",
    from = [[local RETRY_STATUS = { [429] = true,]], to = [[local RETRY_STATUS = { [409] = true, [429] = true,]],
    suites = { PIPE } },
  { id = 31, file = "lua/konnect/operations.lua", what = "create marked idempotent (retried and replayed)",
    from = [[body = validate.create_body, idempotent = false,]],
    to = [[body = validate.create_body, idempotent = true,]],
    suites = { PIPE } },
  { id = 32, file = "lua/konnect/operations.lua", what = "list.data items not checked to be objects (find_by_name raises)",
    from = [[    if type(item) ~= "table" then return "expected data to be an array of objects" end
]], to = "",
    suites = { "busted:pats,hardening", "fuzz" } },
  { id = 33, file = "lua/konnect/ops.lua", what = "the id from /v3/users/me used unchecked (path traversal)",
    from = [[local id = validate.uuid(me.id, "user id")]], to = [[local id = me.id]],
    suites = { "busted:pats,hardening", MUT } },
  { id = 34, file = "lua/konnect/batch.lua", what = "the curl batch runner ignores each call's retry wait",
    from = [[calls[i].ready_at = now() + a]], to = [[calls[i].ready_at = now()]],
    suites = { PIPE, MUT } },
  { id = 35, file = "lua/konnect/pats.lua", what = "plain-http proxy refusal checks the server's host, not the proxy's",
    from = [[p.scheme == "http" and not limits.loopback(p.host) and not allow_insecure_http then]],
    to = [[p.scheme == "http" and not limits.loopback(server.host) and not allow_insecure_http then]],
    suites = { LIMITS, MUT } },
  { id = 36, file = "lua/konnect/pats.lua", what = "the proxy password not among the secrets redacted",
    from = [[for _, cred in ipairs { pass or false, userinfo or false } do]],
    to = [[for _, cred in ipairs { userinfo or false } do]],
    suites = { LIB, "nginx", MUT } },
  { id = 37, file = "lua/konnect/lifecycle.lua", what = "rotate loses the new token when retiring the old one fails",
    from = [[  return new, err, last_meta(calls)]], to = [[  return nil, err, last_meta(calls)]],
    suites = { "busted:pats,helpers,lifecycle,resilience,hardening" } },
  { id = 38, file = "lua/konnect/limits.lua",
    what = "header values of the headers option not checked (CR/LF injection)",
    from = [[ok, err = _M.header_value(v, what .. ": value of " .. k)]], to = [[ok, err = true, nil]],
    suites = { LIMITS } },
  { id = 39, file = "lua/konnect/transport/init.lua",
    what = "inside nginx the first phase's transport sticks to the client",
    from = [[if not (choice == "auto" and ngx) then st.fixed = { t = t, sets = sets } end]],
    to = [[st.fixed = { t = t, sets = sets }]],
    suites = { "nginx" } },
  { id = 40, file = "lua/konnect/transport/init.lua", what = "the log phase counted as a cosocket phase",
    from = [[content = true, timer = true,]], to = [[content = true, timer = true, log = true,]],
    suites = { "nginx" } },

  { id = 82, file = "lua/konnect/time.lua", what = "RFC 3339 offsets applied with the wrong sign",
    from = [[offset = (oh * 3600 + om * 60) * (sign == "-" and -1 or 1)]],
    to = [[offset = (oh * 3600 + om * 60) * (sign == "-" and 1 or -1)]],
    suites = { "busted:helpers,validate,pats,hardening", MUT } },
  { id = 83, file = "lua/konnect/time.lua", what = "every fourth year a leap year (2100-02-29 accepted)",
    from = [[return (y % 4 == 0 and y % 100 ~= 0) or y % 400 == 0]], to = [[return y % 4 == 0]],
    suites = { "busted:helpers,validate,pats,hardening", MUT } },
  { id = 84, file = "lua/konnect/transport/curl.lua",
    what = "curl batches: a create in a batch may be replayed (once dropped)",
    from = [[items[i] = { r.method, r.url, h, r.body, r.once, r.timeout }]],
    to = [[items[i] = { r.method, r.url, h, r.body, false, r.timeout }]],
    suites = { PIPE, MUT } },

  ---------------------------------------------------------------------------
  -- the cosocket transport (OpenResty)
  { id = 41, file = "lua/konnect/transport/http1_read.lua",
    what = "cosocket: every read gets the whole attempt's timeout again (deadline reset per read)",
    from = [[  sock:settimeout(ceil(left * 1000))
  return sock:receiveany(max)]], to = [[  return sock:receiveany(max)]],
    suites = { "nginx", "hostile:cosocket" } },
  { id = 80, file = "lua/konnect/transport/http1_read.lua",
    what = "cosocket: no deadline at all, only the socket timeout set before sending (restarts on every byte)",
    from = [[  ngx_update_time()
  local left = deadline - ngx_now()
  if left <= 0 then return nil, "timeout" end
  sock:settimeout(ceil(left * 1000))
  return sock:receiveany(max)]], to = [[  return sock:receiveany(max)]],
    suites = { "nginx", "hostile:cosocket" } },
  { id = 42, file = "lua/konnect/transport/http1_read.lua", what = "cosocket: header cap raised fourfold",
    from = [[local MAX_HEADER_BYTES = limits.MAX_HEADER_BYTES ]],
    to = [[local MAX_HEADER_BYTES = 4 * limits.MAX_HEADER_BYTES ]],
    suites = { "nginx", "hostile:cosocket" } },
  { id = 43, file = "lua/konnect/transport/http1_read.lua",
    what = "cosocket: a chunk-size line that is not hex ends the body",
    from = [[if not hex or (hex == "" and not find(buf, "^0", pos)) then]], to = [[if not hex then]],
    suites = { "nginx", "hostile:cosocket" } },
  { id = 44, file = "lua/konnect/transport/http1_read.lua",
    what = "cosocket: a response with Transfer-Encoding and Content-Length is pooled",
    from = [[return body, clean and headers["content-length"] == nil]], to = [[return body, clean]],
    suites = { "nginx", "hostile:cosocket" } },
  { id = 45, file = "lua/konnect/transport/http1.lua",
    what = "cosocket: differing repeated Content-Length values accepted",
    from = [[if not find(v, "^%d+$") or (first and v ~= first) then return nil end]],
    to = [[if not find(v, "^%d+$") then return nil end]],
    suites = { "hostile:cosocket", "nginx" } },
  { id = 46, file = "lua/konnect/transport/cosocket.lua", what = "cosocket: TLS certificate verification off",
    from = [[local sess, herr = sock:sslhandshake(false, host, true)]],
    to = [[local sess, herr = sock:sslhandshake(false, host, false)]],
    suites = { "nginx" } },
  { id = 47, file = "lua/konnect/transport/cosocket.lua",
    what = "cosocket: a POST replayed after a stale pooled connection",
    from = [[  if req.once then
    xerr.sent = true]], to = [[  if req.idempotent == false then
    xerr.sent = true]],
    suites = { "nginx", "hostile:cosocket" } },
  { id = 48, file = "lua/konnect/transport/cosocket.lua", what = "cosocket: a replayed request not flagged resent",
    from = [[if res2 then res2.resent = true elseif err2 then err2.sent = true end]],
    to = [[if err2 then err2.sent = true end]],
    suites = { "nginx", MUT } },
  { id = 49, file = "lua/konnect/transport/http1.lua", what = "cosocket: Connection: close ignored (connection pooled)",
    from = [[  if find(c, "close", 1, true) then return true end
]], to = "",
    suites = { "nginx", "hostile:cosocket" } },
  { id = 50, file = "lua/konnect/transport/http1.lua",
    what = "cosocket: request header values not checked (CR/LF injection)",
    from = [[      value, err = limits.header_value(v, "the " .. name .. " header")
      if not value then return nil, err end]], to = [[      value = v]],
    suites = { "nginx", "hostile:cosocket" } },
  { id = 51, file = "lua/konnect/transport/cosocket.lua",
    what = "cosocket: the proxy (and its credentials) left out of the pool name",
    from = [[o.ca_file or "", o.ca_path or "", o.proxy_id or "" }]], to = [[o.ca_file or "", o.ca_path or "" }]],
    suites = { "nginx" } },
  { id = 52, file = "lua/konnect/transport/http1_read.lua", what = "cosocket: a body of exactly max_body bytes refused",
    from = [[      if len > max_body then]], to = [[      if len >= max_body then]],
    suites = { "nginx", "hostile:cosocket", MUT } },

  ---------------------------------------------------------------------------
  -- the C core (csrc/core.c) and the secret file (csrc/fs.c)
  { id = 53, file = "csrc/core.c", what = "C: CURLOPT_PROXY \"\" removed (http_proxy & co honoured silently)",
    from = [[    if (o->str[KC_S_PROXY] == NULL)
        KC_SET(e, CURLOPT_PROXY, "");
    else
        KC_SET(e, CURLOPT_NOPROXY, "");]], to = [[    if (o->str[KC_S_PROXY] != NULL)
        KC_SET(e, CURLOPT_NOPROXY, "");]],
    suites = { CORE } },
  { id = 54, file = "csrc/core.c", what = "C: response header cap changed (64 KiB -> 96 KiB)",
    from = [[#define KC_MAX_HEADER_BYTES        ((size_t)64 * 1024)]],
    to = [[#define KC_MAX_HEADER_BYTES        ((size_t)96 * 1024)]],
    suites = { CORE, "hostile:curl" } },
  { id = 55, file = "csrc/core.c", what = "C: a body of exactly max_body bytes refused (> became >=)",
    from = [[if (n > x->max_body - x->body.len) {]], to = [[if (n >= x->max_body - x->body.len) {]],
    suites = { CORE, "hostile:curl", MUT } },
  { id = 56, file = "csrc/core.c", what = "C: a certificate verification failure mapped to network (and retried)",
    from = [[X(CURLE_PEER_FAILED_VERIFICATION,  KC_TLS)]], to = [[X(CURLE_PEER_FAILED_VERIFICATION,  KC_NETWORK)]],
    suites = { CORE, "busted:pats,hardening" } },
  { id = 57, file = "csrc/core.c", what = "C: a timeout after the request went out reported sent = false",
    from = [[        sent = kc_request_went_out(x);]], to = [[        sent = 0;]],
    suites = { CORE, PIPE } },
  { id = 58, file = "csrc/core.c", what = "C: DEL (0x7f) allowed in header values",
    from = [[        if (c < 0x20 || c == 0x7f) {]], to = [[        if (c < 0x20) {]],
    suites = { CORE } },
  { id = 59, file = "csrc/core.c", what = "C: a timeout of exactly 86400 s refused (<= became <)",
    from = [[if (!(s > 0 && s <= KC_MAX_TIMEOUT_S))]], to = [[if (!(s > 0 && s < KC_MAX_TIMEOUT_S))]],
    suites = { CORE } },
  { id = 60, file = "csrc/core.c", what = "C: redirects followed",
    from = [[KC_SET(e, CURLOPT_FOLLOWLOCATION, 0L);]], to = [[KC_SET(e, CURLOPT_FOLLOWLOCATION, 1L);]],
    suites = { CORE, "busted:pats,hardening" } },
  { id = 61, file = "csrc/core.c", what = "C: peer certificate verification off",
    from = [[    KC_SET(e, CURLOPT_SSL_VERIFYPEER, 1L);]], to = [[    KC_SET(e, CURLOPT_SSL_VERIFYPEER, 0L);]],
    suites = { CORE } },
  { id = 62, file = "csrc/core.c",
    what = "C: a once (POST) request replayed once by libcurl on a dead kept-alive connection",
    from = [[if (x->once && x->sends > 1) {]], to = [[if (x->once && x->sends > 2) {]],
    suites = { CORE, PIPE } },
  { id = 63, file = "csrc/core.c", what = "C: a proxy's credentials left in a libcurl message",
    from = [[            luaL_addstring(&b, "***");
            h = at;]], to = [[            luaL_addstring(&b, "***");]],
    suites = { CORE, MUT } },
  { id = 64, file = "csrc/core.c", what = "C: batch concurrency cap off by one (256 refused)",
    from = [[if (!(c >= 1 && c <= KC_MAX_CONCURRENCY && c == floor(c)))]],
    to = [[if (!(c >= 1 && c < KC_MAX_CONCURRENCY && c == floor(c)))]],
    suites = { CORE } },
  { id = 65, file = "csrc/core.c", what = "C: max_body of exactly 1024 refused",
    from = [[if (!(v >= (lua_Number)KC_MIN_MAX_BODY && v <= (lua_Number)KC_MAX_MAX_BODY &&]],
    to = [[if (!(v > (lua_Number)KC_MIN_MAX_BODY && v <= (lua_Number)KC_MAX_MAX_BODY &&]],
    suites = { CORE } },
  { id = 66, file = "csrc/fs.c", what = "secret file: O_EXCL dropped (an existing file is written over)",
    from = [[fd = openat(sf->dirfd, sf->base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);]],
    to = [[fd = openat(sf->dirfd, sf->base, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);]],
    suites = { CLI, CORE } },
  { id = 67, file = "csrc/fs.c", what = "secret file: O_NOFOLLOW dropped from the --force temporary",
    from = [[fd = openat(sf->dirfd, sf->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);]],
    to = [[fd = openat(sf->dirfd, sf->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);]],
    suites = { CLI, MUT },
    equivalent = "the open also has O_CREAT|O_EXCL, which never follows a symbolic link: a link at the name "
      .. "fails with EEXIST whatever it points to (POSIX open(2); checked on Linux with a dangling link and a "
      .. "link to an existing file: EEXIST, the same errno as with O_NOFOLLOW, nothing created at the target), "
      .. "and EEXIST makes the loop try another random name.  No input tells the two apart." },
  { id = 68, file = "csrc/fs.c", what = "secret file: --force inspects the target through a symlink",
    from = [[if (fstatat(sf->dirfd, sf->base, &st, AT_SYMLINK_NOFOLLOW) == 0) {]],
    to = [[if (fstatat(sf->dirfd, sf->base, &st, 0) == 0) {]],
    suites = { CLI, MUT } },
  { id = 69, file = "csrc/fs.c", what = "secret file: fsync of the data removed",
    from = [[    if (fsync(sf->fd) != 0)
        return kc_fail(L, "cannot sync the file", errno);
]], to = "",
    suites = { CLI, MUT } },
  { id = 81, file = "csrc/fs.c", what = "secret file: the directory not synced after the rename",
    from = [[    if (fsync(sf->dirfd) != 0) {
        int e = errno;
        kc_sf_release(sf);
        return kc_fail(L, "cannot sync the directory", e);
    }
]], to = "",
    suites = { CLI, MUT } },
  { id = 70, file = "csrc/fs.c",
    what = "secret file: a name swapped during the call goes unnoticed (inode not compared)",
    from = [[st.st_dev != sf->dev || st.st_ino != sf->ino) {]], to = [[st.st_dev != sf->dev) {]],
    suites = { CLI } },
  { id = 71, file = "csrc/fs.c", what = "secret file: made world-readable (0644)",
    from = [[fchmod(fd, 0600) != 0)]], to = [[fchmod(fd, 0644) != 0)]],
    suites = { CLI } },
  { id = 72, file = "csrc/fs.c", what = "secret file: abort unlinks whatever now has the name",
    from = [[        st.st_dev == sf->dev && st.st_ino == sf->ino)
        unlinkat(sf->dirfd, name, 0);]], to = [[        st.st_dev == sf->dev)
        unlinkat(sf->dirfd, name, 0);]],
    suites = { CLI, MUT } },

  ---------------------------------------------------------------------------
  -- the CLI
  { id = 73, file = "lua/konnect/cli.lua", what = "CLI: unauthorized exits 1 instead of 4",
    from = [[unauthorized = EXIT_AUTH, forbidden = EXIT_AUTH,]],
    to = [[unauthorized = EXIT_API, forbidden = EXIT_AUTH,]],
    suites = { CLI } },
  { id = 74, file = "lua/konnect/cli.lua", what = "CLI: output no longer redacted",
    from = [[local ok, r = pcall(redact_string, s, st.token)]], to = [[local ok, r = true, s]],
    suites = { CLI } },
  { id = 75, file = "lua/konnect/cli/secret.lua", what = "CLI: --secret-file always replaces (as if --force)",
    from = [[core.secret_file(path, force and true or false)]], to = [[core.secret_file(path, true)]],
    suites = { CLI } },
  { id = 76, file = "lua/konnect/cli.lua", what = "CLI: a failed run leaves its empty secret file behind",
    from = [[pcall(st.sink.abort, st.sink)]], to = [[pcall(st.sink.close, st.sink)]],
    suites = { CLI } },
  { id = 77, file = "lua/konnect/cli/args.lua", what = "CLI: the proxy environment honoured without --proxy-from-env",
    from = [[if opts["proxy-from-env"] then o.proxy = "env" end]], to = [[o.proxy = "env"]],
    suites = { CLI } },
  { id = 78, file = "lua/konnect/cli/args.lua", what = "CLI: --ttl 1y is 366 days (refused)",
    from = [[y = 365 * 86400]], to = [[y = 366 * 86400]],
    suites = { CLI } },
  { id = 85, file = "lua/konnect/cli/render.lua", what = "CLI: control characters of server strings printed raw",
    from = [[s = s:gsub("%c", "?"):gsub("\194[\128-\159]", "?")]], to = [[s = s:gsub("\194[\128-\159]", "?")]],
    suites = { CLI, MUT } },
  { id = 79, file = "lua/konnect/cli/secret.lua",
    what = "CLI: a secret with control characters (terminal escapes) printed",
    from = [[secret:find("[%s%c]")]], to = [[secret:find("%s")]],
    suites = { CLI, MUT } },

  ---------------------------------------------------------------------------
  -- round two, issue 12: the C decoder and the first-attempt path
  { id = 86, file = "csrc/core.c", what = "C decoder: control bytes taken inside strings (cjson refuses them)",
    from = [[        if (c == '\\' || c < 0x20)]], to = [[        if (c == '\\')]],
    suites = { "busted:fastpath" } },
  { id = 87, file = "csrc/core.c", what = "C decoder: no depth cap on arrays (deep nesting recurses in C)",
    from = [[    if (++j->depth > KC_JSON_MAX_DEPTH || !lua_checkstack(L, KC_JSON_BATCH + 8))]],
    to = [[    if (!lua_checkstack(L, KC_JSON_BATCH + 8))]],
    suites = { "busted:fastpath", "fuzz" } },
  { id = 88, file = "csrc/core.c", what = "C decoder: an array with a null element decoded with a hole",
    from = [[        if (jd_value(j, &is_null) != 0 || is_null)]], to = [[        if (jd_value(j, &is_null) != 0)]],
    suites = { "busted:fastpath" } },
  { id = 89, file = "lua/konnect/http.lua", what = "first attempt: the operation's check of the value skipped",
    from = [[        if not (check and check(v)) then]], to = [[        if true then]],
    suites = { LIB, "busted:fastpath" } },
  { id = 90, file = "lua/konnect/http.lua", what = "first attempt: a body that may hold the token decoded unmasked",
    from = [[        if held then]], to = [[        if false then]],
    suites = { "busted:fastpath,hardening" } },
}
