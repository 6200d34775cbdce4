-- scripts/mutate_equivalents.lua: mutants of `make mutate` shown to be equivalent (no
-- test can tell them from the real code), never drawn again.  Each entry: the file, the
-- line's text before and after the mutation (leading and trailing white space ignored;
-- never a line number, so an entry survives code moving around it), and why; where the
-- same text occurs at several places, `prev` (the code line before) or `before` (up to
-- 3 code lines before, the nearest first) says which.  An entry
-- whose text no longer occurs simply stops matching: drop it when you see it.
local PROTOCOLS_ELSE = "inside the #else of LIBCURL_VERSION_NUM >= 0x075500: not compiled with libcurl 7.85 or later "
  .. "(Debian 12 has 7.88), where CURLOPT_PROTOCOLS_STR / CURLOPT_REDIR_PROTOCOLS_STR say http,https"
local FIND0_B = "string.find reads an init of 0 as 1 (Lua 5.2+: posrelat maps 0 to 1; Lua 5.1/LuaJIT: a negative offset clamps to the start): the same search, checked on lua5.1/5.3/5.4/luajit"
local GUESS_CAP_F = "errors.lua guess(): the cap only saves work; squashed is letters only and the longest kind has "
  .. "15 (invalidargument), so a string of 31 to 33 letters is at least 16 edits from every kind and never a hint "
  .. "(prev[#b] <= 2 fails) either way"
return {
  { file = "lua/konnect/transport/http1_read.lua",
    from = [[if e > MAX_HEADER_BYTES then return nil, "too_large", true end]],
    to = [[if false then return nil, "too_large", true end]],
    why = "on this path the head ends inside the first read, which asks for READ_CHUNK (64 KiB) bytes at most: "
      .. "e <= 65536 = MAX_HEADER_BYTES, so the check can never be true (it guards a change of either constant)" },
  { file = "csrc/multi.c",
    from = [[curl_multi_setopt(m->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);]],
    to = [[{}]],
    why = "CURLPIPE_MULTIPLEX is libcurl's default since 7.62.0 (CURLMOPT_PIPELINING(3)); Debian 12 has 7.88: "
      .. "the call only matters on an older libcurl" },
  { file = "csrc/multi.c", from = [[if (msg->msg != CURLMSG_DONE)]], to = [[if (0)]],
    why = "CURLMSG_DONE is the only message curl_multi_info_read(3) defines: the check never skips one" },
  { file = "csrc/fs.c", from = [[if (fd < 0 && errno != EEXIST)]], to = [[if (!(fd < 0 && errno != EEXIST))]],
    why = "differs only when a random temporary name already exists (then it gives up instead of retrying) or "
      .. "when openat fails otherwise (then it retries KC_SF_TRIES times and fails with the same errno): no test "
      .. "can make a name of KC_SF_RANDOM random characters collide" },
  { file = "csrc/fs.c", from = [[if (fd < 0 && errno != EEXIST)]], to = [[if (fd < 0 || errno != EEXIST)]],
    why = "with fd >= 0 the loop ends either way (its condition is fd < 0); with fd < 0 it differs only on "
      .. "EEXIST, a collision of KC_SF_RANDOM random characters (it gives up instead of retrying): no test can cause one" },
  { file = "lua/konnect/transport/cosocket.lua",
    from = [[return find(host, "^%d+%.%d+%.%d+%.%d+$") ~= nil or sub(host, 1, 1) == "["]],
    to = [[return find(host, "^%d+%.%d+%.%d+%.%d+") ~= nil or sub(host, 1, 1) == "["]],
    why = "is_ip only chooses which hint a TLS failure's message carries (use a host name, not an IP address): "
      .. "message text, which make mutate does not score" },
  { file = "lua/konnect/transport/http1_read.lua",
    from = [[if total > MAX_HEADER_BYTES then return nil, "too_large", true end]],
    to = [[if false then return nil, "too_large", true end]], prev = [[local total = #buf]],
    why = "right after the first read of at most READ_CHUNK (64 KiB) bytes, or after a 1xx head out of one: "
      .. "total <= 65536 = MAX_HEADER_BYTES; the loop below checks every later read" },
  { file = "lua/konnect/meta.lua",
    from = [[if k ~= "headers" and k ~= "request_id" then return nil end]],
    to = [[if k ~= "headers" and k ~= "request_id" then  end]],
    why = "reading any other absent field then builds headers and request_id early and returns m[k], still nil: "
      .. "the same values, only the lazy build is lost" },
  { file = "csrc/multi.c", from = [[if (n <= m->npool)]], to = [[if (n < m->npool)]],
    why = "n == npool then reallocs the pool to the size it has and adds no slot: the same pool" },
  { file = "csrc/multi.c", from = [[curl_multi_setopt(m->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)conc);]],
    to = [[{}]],
    why = "CURLMOPT_MAX_TOTAL_CONNECTIONS is set to the same conc on the next line, and a host's connections "
      .. "are some of all connections: whenever the per-host cap would bind the total cap binds too (libcurl "
      .. "checks both before opening one); the run loop never has more than conc transfers in flight" },
  { file = "csrc/fs.c", from = [[return 1;]], to = [[return 2;]], prev = [[lua_pushboolean(L, 1);]],
    why = "sf:commit(), sf:abort() and sf:close() (and __gc/__close) then return the sf userdata after true: "
      .. "every caller reads what follows true only when there is no true (the CLI's commands.lua, pcall)" },
  { file = "lua/konnect/ops.lua", from = [[elseif nparams == 1 and a2 == nil and seen[a1] then]],
    to = [[elseif nparams == 0 and a2 == nil and seen[a1] then]],
    why = "a shortcut for ids that passed before: without it the general branch below builds the same path "
      .. "(it validates the id again, and validate.uuid accepts what it remembered)" },
  { file = "lua/konnect/redact.lua", from = [[local scheme = type(v) == "string" and v:match("^(%a[%w-]*) ") or nil]],
    to = [[local scheme = type(v) == "string" and v:match("^([%w-]*) ") or nil]],
    why = "only a credential header's first word starting with a digit or '-' (or a value starting with a "
      .. "space) is shown as its scheme then; the part after it is masked either way, and no auth scheme starts so" },
  { file = "lua/konnect/redact.lua", from = [[if type(map) ~= "table" then return h end]],
    to = [[if false then return h end]],
    why = "every caller passes a table: the transports' res.headers always is one (konnect.transport makes "
      .. "a caller's function's headers a table), and request headers are built as one" },
  { file = "lua/konnect/transport/init.lua", from = [[if not (choice == "auto" and ngx) then st.fixed = { t = t, sets = sets } end]],
    to = [[if false then st.fixed = { t = t, sets = sets } end]],
    why = "st.fixed caches the choice; without it every call selects again and gets the same transport and sets "
      .. "(load caches them per name)" },
  { file = "csrc/xfer.c", from = [[KC_SET(e, CURLOPT_SSL_VERIFYHOST, 2L);]], to = [[KC_SET(e, CURLOPT_SSL_VERIFYHOST, 1L);]],
    why = "CURLOPT_SSL_VERIFYHOST(3): since libcurl 7.66.0 the value 1 is treated as 2 (Debian 12 has 7.88)" },
  -- seed 31001
  { file = "csrc/core.c", from = [[p = lua_touserdata(L, idx < 0 && idx > LUA_REGISTRYINDEX ? idx - 1 : idx);]],
    to = [[p = lua_touserdata(L, idx <= 0 && idx > LUA_REGISTRYINDEX ? idx - 1 : idx);]],
    why = "differs only for idx == 0, which is no Lua stack index; every caller passes 1, 2, an argument "
      .. "index or -1 (grep kc_to_udata csrc)" },
  { file = "csrc/core.h", from = [[enum { KC_FIT = 0, KC_TOO_BIG_BODY = 1, KC_TOO_BIG_HEADERS = 2 };]],
    to = [[enum { KC_FIT = 0, KC_TOO_BIG_BODY = 1, KC_TOO_BIG_HEADERS = 3 };]],
    why = "the values are only compared and assigned by name (response.c, xfer.c); 3 is as distinct from "
      .. "KC_FIT and KC_TOO_BIG_BODY as 2 (the mutants that make two values equal stay drawn)" },
  { file = "csrc/core.h", from = [[enum { KC_M_NONE = 0, KC_M_GET, KC_M_HEAD, KC_M_FIELDS, KC_M_CUSTOM };]],
    to = [[enum { KC_M_NONE = 1, KC_M_GET, KC_M_HEAD, KC_M_FIELDS, KC_M_CUSTOM };]],
    why = "the five stay distinct and are only compared by name; a slot fresh from calloc has mstate 0, "
      .. "which is then no KC_M_* value at all: unequal to every method's state, as KC_M_NONE is, so its "
      .. "first request sets the method up the same way (xfer.c kc_xfer_prepare)" },
  { file = "csrc/fs.c", from = [[while (got < n) {]], to = [[while (!(got < n)) {]],
    prev = [[int fd;]], -- (the getrandom loop; the /dev/urandom one follows "got = 0;")
    why = "getrandom(2) is then never called and the bytes come from the fallback just below, a read of "
      .. "/dev/urandom: the same kernel generator, the same unpredictable names" },
  { file = "csrc/fs.c", from = [[if (r < 0 && errno == EINTR)]], to = [[if (r <= 0 && errno == EINTR)]],
    why = "the /dev/urandom fallback runs only when getrandom(2) fails (never on Linux >= 3.17), and "
      .. "read(2) of /dev/urandom never returns 0 (no end of file)" },
  { file = "lua/konnect/cli/help.lua", from = [[_M.PROG = "konnect-pats"]], to = "",
    why = "nothing reads help.PROG: cli.lua and cli/commands.lua each have their own local PROG "
      .. "(grep -rn PROG lua bin)" },
  { file = "lua/konnect/json.lua", from = [[codec.encode_invalid_numbers(false)]], to = "",
    why = "false is lua-cjson's default (DEFAULT_ENCODE_INVALID_NUMBERS 0 in lua_cjson.c) and cjson.new() "
      .. "starts from the defaults, whatever the global instance was set to (checked: encode(0/0) is nil, "
      .. "\"must not be NaN or Inf\", after cjson.encode_invalid_numbers(true))" },
  { file = "lua/konnect/transport/http1.lua", from = [[if not host or host == "" then return nil, "no host in the URL" end]],
    to = [[if not host and host == "" then return nil, "no host in the URL" end]],
    why = "limits.host, the next line, refuses nil and \"\" itself (\"no host\"): the same refusal "
      .. "before any I/O, the same kind; only the words \"in the URL\" leave the message" },
  -- seed 41002
  { file = "csrc/core.c", from = [[if (!kc_atfork_set && pthread_atfork(NULL, NULL, kc_atfork_child) == 0)]],
    to = [[if (kc_atfork_set && pthread_atfork(NULL, NULL, kc_atfork_child) == 0)]],
    why = "the fork handler is then never set and kc_generation() is getpid(), the fallback made for a "
      .. "pthread_atfork that fails: a fork changes the generation either way (a child's pid is never its "
      .. "parent's), so no handle is ever used across a fork in both" },
  { file = "csrc/multi.c", from = [[return 0;]], to = [[return 1;]],
    before = { [[lua_rawseti(L, results, i);]], [[kc_push_terr(L, KC_SYSTEM, "no free transfer slot", 0, 0, 0);]] },
    why = "unreachable: the x == NULL branch (\"cannot happen: caller counts\"); request_many starts an item "
      .. "only while inflight < conc, so one of the conc slots is always free" },
  { file = "csrc/xfer.c", from = [[x->errbuf[0] = '\0';]], to = [[x->errbuf[1] = '\0';]],
    why = "libcurl empties the error buffer itself before every transfer since 7.60.0 (CURLOPT_ERRORBUFFER(3)); "
      .. "Debian 12 has 7.88: the reset only matters on an older libcurl" },
  { file = "lua/konnect/validate.lua", from = [[elseif c >= 0xF0 and c <= 0xF4 then n, cp, min = 3, c - 0xF0, 0x10000]],
    to = [[elseif c >= 0xF0 or c <= 0xF4 then n, cp, min = 3, c - 0xF0, 0x10000]],
    why = "the lead bytes it then lets in (0x80-0xC1, 0xF5-0xFF) decode to a code point below 0 or above "
      .. "0x10FFFF, which the check after the loop refuses: the same verdict for every string" },
  { file = "lua/konnect/limits.lua", from = [[local userinfo, hostport = authority:match("^(.*)@([^@]*)$")]],
    to = [[local userinfo, hostport = authority:match("^(.*)@([^@]*)")]],
    why = "the greedy (.*) ends at the last @, so what follows holds no @ and the greedy [^@]* always reaches "
      .. "the end of the string: the $ can never reject a match" },
  { file = "lua/konnect/batch.lua", from = [[drain(c, jobs, out, { next = 1 }, on_done)]],
    to = [[drain(c, jobs, out, { next = 0 }, on_done)]],
    why = "jobs is an array from 1 (execute fills jobs[1..n]): drain takes index 0 first, finds jobs[0] nil, "
      .. "skips it and goes on from 1; the same calls in the same order" },
  { file = "csrc/xfer.c", from = [[else if (mstate == KC_M_GET || mstate == KC_M_HEAD)]],
    to = [[else if (mstate == KC_M_GET && mstate == KC_M_HEAD)]],
    why = "method then stays \"GET\" or \"HEAD\" instead of \"\": it is only stored in x->mcustom beside "
      .. "x->mstate and compared with it (mstate GET/HEAD comes only from exactly that method, so the pair "
      .. "matches whenever it did); CUSTOMREQUEST is never set for GET (mstate != KC_M_GET) nor HEAD (NOBODY "
      .. "branch first): the same options reach libcurl" },
  { file = "csrc/xfer.c", from = [[ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;]],
    to = [[ncap = ncap > SIZE_MAX / 3 ? need : ncap * 2;]],
    why = "differs only for a capacity over SIZE_MAX / 3 (6 EiB on 64 bits): a buffer is bounded long before by "
      .. "max_body and the 64 KiB header cap (the append fails at its limit), so ncap * 2 is taken either way" },
  { file = "csrc/xfer.c", from = [[if (x->slist != NULL && x->easy != NULL) {]],
    to = [[if (x->slist != NULL && x->easy == NULL) {]],
    why = "the handle then keeps the freed per-request list's address P, and cur_hdrs stays P: the next "
      .. "request sets HTTPHEADER again unless its list is a prebuilt one at that very address, and then the "
      .. "handle's pointer is that list; with easy == NULL the setopt fails harmlessly. libcurl reads the list "
      .. "only during a transfer (CURLOPT_HTTPHEADER(3)), never between them" },
  { file = "csrc/response.c", from = [[int sent = 1;]], to = [[int sent = 0;]],
    why = "push_curl_error's switch assigns sent on every path (its default too) before it is read: "
      .. "the initial value is never used" },
  { file = "csrc/multi.c", from = [[kc_xfer *x = calloc(1, sizeof *x);]], to = [[kc_xfer *x = calloc(2, sizeof *x);]],
    why = "a zeroed slot twice the size: only the first element is used and free(x) gives back the whole block" },
  { file = "lua/konnect/transport/cosocket.lua",
    from = [[local user, pass = match(p.userinfo, "^([^:]*):?(.*)$")]],
    to = [[local user, pass = match(p.userinfo, "([^:]*):?(.*)$")]],
    why = "every part of the pattern can match empty and (.*)$ takes the rest: it always matches at position 1, "
      .. "the first one string.match tries, so the anchor never changes the captures" },
  { file = "csrc/xfer.c", from = [[size_t hl, nl = 0, v = 0;]], to = [[size_t hl, nl = 1, v = 0;]],
    why = "check_header_line sets nl on success and build_slist returns on its error before reading it: "
      .. "the initial value is never used" },
  { file = "csrc/xfer.c", from = [[curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, (long)x->once);]],
    to = [[curl_easy_setopt(e, (long)x->once, CURLOPT_FRESH_CONNECT);]],
    why = "inside #if LIBCURL_VERSION_NUM < 0x075000: not compiled with libcurl 7.80 or later (Debian 12 has "
      .. "7.88), where CURLOPT_PREREQFUNCTION does the job" },
  { file = "csrc/response.c", from = [[return reqsize > 0;]], to = [[return reqsize >= 0;]],
    why = "inside the #else of LIBCURL_VERSION_NUM >= 0x075000: not compiled with libcurl 7.80 or later "
      .. "(Debian 12 has 7.88), where the prereq callback's count decides" },
  -- seed 61001
  { file = "csrc/multi.c", from = [[x->attached = 0;]], to = [[x->attached = 1;]],
    before = { [[curl_multi_remove_handle(m->multi, x->easy);]],
               [[if (ours && x->attached && m->multi != NULL && x->easy != NULL)]] },
    why = "in multi_release, after the handle left the CURLM: the loop below calls kc_xfer_release on the same "
      .. "slot (it sets attached = 0 again) and frees it; nothing reads attached in between" },
  { file = "csrc/xfer.c", from = [[x->replay_blocked = 1;]], to = [[x->replay_blocked = 2;]],
    why = "replay_blocked is only read as a truth value (response.c: if (x->replay_blocked)) and reset to 0 "
      .. "before every request" },
  { file = "csrc/xfer.c", from = [[if (mstate != x->mstate || strcmp(method, x->mcustom) != 0) {]],
    to = [[if (mstate != x->mstate || strcmp(x->mcustom, method) != 0) {]],
    why = "strcmp(a, b) != 0 exactly when strcmp(b, a) != 0 (C11 7.24.4.2: the sign flips, zero stays zero)" },
  -- CURLOPT_PROTOCOLS / REDIR_PROTOCOLS: every mutant of the two lines in the #else of
  -- LIBCURL_VERSION_NUM >= 0x075500 (not compiled with libcurl 7.85 or later; Debian 12 has 7.88,
  -- where CURLOPT_PROTOCOLS_STR and REDIR_PROTOCOLS_STR say http,https)
  { file = "csrc/xfer.c", from = [[KC_SET(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));]],
    to = [[KC_SET(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP));]], why = PROTOCOLS_ELSE },
  { file = "csrc/xfer.c", from = [[KC_SET(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));]],
    to = [[KC_SET(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTPS));]], why = PROTOCOLS_ELSE },
  { file = "csrc/xfer.c", from = [[KC_SET(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));]],
    to = [[KC_SET(CURLOPT_PROTOCOLS, e, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));]], why = PROTOCOLS_ELSE },
  { file = "csrc/xfer.c", from = [[KC_SET(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));]],
    to = [[KC_SET(e, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS), CURLOPT_PROTOCOLS);]], why = PROTOCOLS_ELSE },
  { file = "csrc/xfer.c", from = [[KC_SET(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));]],
    to = [[{}]], why = PROTOCOLS_ELSE },
  { file = "csrc/xfer.c", from = [[KC_SET(e, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));]],
    to = [[KC_SET(e, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP));]], why = PROTOCOLS_ELSE },
  { file = "csrc/xfer.c", from = [[KC_SET(e, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));]],
    to = [[KC_SET(e, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTPS));]], why = PROTOCOLS_ELSE },
  { file = "csrc/xfer.c", from = [[KC_SET(e, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));]],
    to = [[KC_SET(CURLOPT_REDIR_PROTOCOLS, e, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));]], why = PROTOCOLS_ELSE },
  { file = "csrc/xfer.c", from = [[KC_SET(e, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));]],
    to = [[KC_SET(e, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS), CURLOPT_REDIR_PROTOCOLS);]], why = PROTOCOLS_ELSE },
  { file = "csrc/xfer.c", from = [[KC_SET(e, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));]],
    to = [[{}]], why = PROTOCOLS_ELSE },
  { file = "csrc/xfer.c", from = [[size_t ncap = b->cap ? b->cap : 4096;]], to = [[size_t ncap = b->cap ? b->cap : 4095;]],
    why = "only the first capacity of a buffer changes; the loop below still doubles it to at least the bytes needed "
      .. "and caps it at the limit the same way: every append keeps the same bytes, no result differs" },
  { file = "csrc/conn.c", from = [[c->closed = 1;]], to = [[c->closed = 2;]],
    why = "closed is only read as a truth value (if (!c->closed), if (c->closed)) and never reset" },
  { file = "lua/konnect/transport/http1.lua", from = [[local headers, len, colon, last = {}, #head, 0, nil]],
    to = [[local headers, len, colon, last = {}, #head, 1, nil]],
    why = "parse_head's loop starts past the status line (pos > 13), so colon < pos holds on the first turn with 0 "
      .. "or 1 and the first colon is searched for either way; colon is not read before that" },
  { file = "lua/konnect/cli/commands.lua",
    from = [[if by ~= "name" and fa ~= fb then return fa < fb end]],
    to = [[if by ~= "name" and fa ~= fb then return fa <= fb end]],
    why = "the comparison runs only when fa ~= fb: for two different strings < and <= agree" },
  { file = "lua/konnect/cli/commands.lua", from = [[if ka ~= kb then return ka < kb end]],
    to = [[if ka ~= kb then return ka <= kb end]],
    why = "the comparison runs only when ka ~= kb (numbers or strings, never NaN): < and <= agree" },
  { file = "lua/konnect/cli/commands.lua", from = [[if na ~= nb then return na < nb end]],
    to = [[if na ~= nb then return na <= nb end]],
    why = "the comparison runs only when na ~= nb: for two different strings < and <= agree" },
  { file = "lua/konnect/redact.lua", from = [[if find(s, "konnect_token", 1, true) then]],
    to = [[if find(s, "konnect_token", 0, true) then]],
    why = "string.find takes an init below 1 as 1 (Lua 5.1 to 5.4 manuals, string.find; lstrlib.c clamps it)" },
  { file = "lua/konnect/redact.lua", from = [[if find(s, '"token"', 1, true) then]],
    to = [[if find(s, '"token"', 0, true) then]],
    why = "string.find takes an init below 1 as 1 (Lua 5.1 to 5.4 manuals, string.find; lstrlib.c clamps it)" },
  { file = "lua/konnect/redact.lua", from = [[for i = 1, #secret do s = mask_one(s, secret[i]) end]],
    to = [[for i = 0, #secret do s = mask_one(s, secret[i]) end]],
    why = "a secret set is a sequence the library builds (pats.new, accounts), never with a [0]: secret[0] is nil, "
      .. "and mask_one(s, nil) returns s untouched" },
  { file = "lua/konnect/validate.lua", from = [[elseif c >= 0xF0 and c <= 0xF4 then n, cp, min = 3, c - 0xF0, 0x10000]],
    to = [[elseif c >= 0xF0 and c <= 0xF5 then n, cp, min = 3, c - 0xF0, 0x10000]],
    why = "a sequence led by F5 decodes to U+140000 or more, refused by the cp > 0x10FFFF check after the loop" },
  { file = "lua/konnect/validate.lua", from = [[elseif c >= 0xF0 and c <= 0xF4 then n, cp, min = 3, c - 0xF0, 0x10000]],
    to = [[elseif c >= 0xEF and c <= 0xF4 then n, cp, min = 3, c - 0xF0, 0x10000]],
    why = "EF is taken by the E0-EF branch before this one" },
  { file = "lua/konnect/validate.lua", from = [[elseif c >= 0xE0 and c <= 0xEF then n, cp, min = 2, c - 0xE0, 0x800]],
    to = [[elseif c >= 0xDF and c <= 0xEF then n, cp, min = 2, c - 0xE0, 0x800]],
    why = "DF is taken by the C2-DF branch before this one" },
  { file = "lua/konnect/validate.lua", from = [[if c >= 0xC2 and c <= 0xDF then n, cp, min = 1, c - 0xC0, 0x80]],
    to = [[if c >= 0xC1 and c <= 0xDF then n, cp, min = 1, c - 0xC0, 0x80]],
    why = "a C1 lead decodes to 0x40-0x7F, under min 0x80: refused (overlong) either way" },
  { file = "lua/konnect/validate.lua", from = [[if c >= 0xC2 and c <= 0xDF then n, cp, min = 1, c - 0xC0, 0x80]],
    to = [[if c >= 0xC2 and c <= 0xDF then n, cp, min = 1, c - 0xC0, 0x7F]],
    why = "a C2-DF lead decodes to 0x80 or more: no code point of this branch is 0x7F" },
  { file = "lua/konnect/pats.lua", from = [[if cred and #cred >= 4 then]], to = [[if cred and #cred >= 3 then]],
    why = "a 3-byte credential in the secret set is skipped by every reader of the set: redact's mask_one, "
      .. "the pre-decode search and body() take secrets of 4 bytes or more (redact.lua); behaviours_spec's "
      .. "3-byte proxy password test holds the outcome" },
  { file = "lua/konnect/cli/bundle.lua",
    from = [[local f = core and open(core:match("^(.*/)") .. "cli_bundle.luac", "rb")]],
    to = [[local f = core and open(core:match("(.*/)") .. "cli_bundle.luac", "rb")]],
    why = "an unanchored match is tried first at position 1, where the greedy (.*/) already matches up to the "
      .. "last slash when there is one; with no slash neither form matches" },
  { file = "lua/konnect/cli/bundle.lua", from = [[if size then code, more = f:read(size, 1) end]],
    to = [[if size then code, more = f:read(size, 0) end]],
    why = "`more` only says whether anything follows the bytecode: read(0) gives \"\" (true) before the end "
      .. "of file and nil at it, as read(1) gives a byte or nil" },
  { file = "lua/konnect/cli/bundle.lua", from = [[if size then code, more = f:read(size, 1) end]],
    to = [[if size then code, more = f:read(size, 2) end]],
    why = "`more` only says whether anything follows the bytecode: read(2) is non-nil exactly when read(1) is" },
  { file = "lua/konnect/cli/bundle.lua", from = [[if code:sub(1, 1) ~= "\27" then return nil, "not bytecode" end]],
    to = [[if code:sub(0, 1) ~= "\27" then return nil, "not bytecode" end]],
    why = "string.sub treats a start of 0 as 1" },
  { file = "lua/konnect/redact.lua", from = [[if j ~= i and #b <= #a and find(a, b, 1, true) and (#b < #a or j < i) then keep = false; break end]], to = [[if j ~= i and #b <= #a and find(a, b, 0, true) and (#b < #a or j < i) then keep = false; break end]],
    why = "string.find reads an init of 0 as 1 (Lua 5.1: as the string's start)" },
  { file = "lua/konnect/redact.lua", from = [[if j ~= i and #b <= #a and find(a, b, 1, true) and (#b < #a or j < i) then keep = false; break end]], to = [[if j ~= i and #b <= #a and find(a, b, 2, true) and (#b < #a or j < i) then keep = false; break end]],
    why = "redact.needles_of only drops a needle that holds another one of the set; with the mutant a needle that starts with another stays in the set: find_any finds one whenever "
      .. "it found the other, so the answer, and what is masked, is the same (one more needle to look for)" },
  { file = "lua/konnect/redact.lua", from = [[for j = 1, #all do]], to = [[for j = 2, #all do]],
    why = "redact.needles_of only drops a needle that holds another one of the set; all[1] is \"%\": with the mutant a needle holding a % stays in the set, which changes no answer "
      .. "of find_any (a string holding it holds the %)" },
  { file = "lua/konnect/redact.lua", from = [[set = new_needles(set)]], to = [[]],
    why = "core.find_any answers true for a set that is not a core.needles (its documented fallback), so body() "
      .. "goes on to may_hold for each secret, whose answer decides: the same result, only slower" },
  { file = "lua/konnect/redact.lua",
    from = [[if fragments_cached >= FRAGMENTS_KEPT then fragments_cache, fragments_cached = {}, 0 end]],
    to = [[if not (fragments_cached >= FRAGMENTS_KEPT) then fragments_cache, fragments_cached = {}, 0 end]],
    why = "the fragments cache only saves work: with the mutant it is emptied on nearly every miss (it holds one "
      .. "secret), still bounded, and b64_fragments computes the same fragments" },
  { file = "lua/konnect/redact.lua", from = [[if depth > MAX_DEPTH then return end]], to = [[if depth > MAX_DEPTH then  end]],
    why = "mask_in_place only walks what json.decode made, whose nesting codec.decode_max_depth(JSON_MAX_DEPTH = 64) "
      .. "bounds: the deepest table sits at depth 63 < REDACT_MAX_DEPTH (64), so the check never returns" },
  { file = "csrc/xfer.c", from = [[if (v < hl && h[v] == ' ')]], to = [[if (v <= hl && h[v] == ' ')]],
    why = "h comes from lua_tolstring, which guarantees h[hl] == '\\0' (Lua manual, lua_tolstring): at v == hl "
      .. "the test reads that NUL, never a space" },
  { file = "csrc/xfer.c", from = [[x->pipewait = -1;]], to = [[x->pipewait = -2;]],
    why = "-1 only means 'not set yet': the next request compares it with pw, which is 0 or 1, and sets "
      .. "CURLOPT_PIPEWAIT either way" },
  { file = "lua/konnect/transport/curl.lua", from = [[if #run > 0 then]], to = [[if #run >= 0 then]],
    why = "with every item refused, run is empty: request_many({}) returns an empty table at once (its loop runs "
      .. "while items are left or in flight) and the copy loop copies nothing; out is the same" },
  { file = "csrc/xfer.c", from = [[KC_SET(e, CURLOPT_PROXY_SSL_VERIFYHOST, 2L);]],
    to = [[KC_SET(e, CURLOPT_PROXY_SSL_VERIFYHOST, 1L);]],
    why = "CURLOPT_PROXY_SSL_VERIFYHOST(3): from libcurl 7.66.0 on, 1 and 2 are treated the same (Debian 12: 7.88)" },
  { file = "csrc/xfer.c", from = [[KC_SET(e, CURLOPT_SSL_VERIFYHOST, 2L);]], to = [[KC_SET(e, CURLOPT_SSL_VERIFYHOST, 1L);]],
    why = "CURLOPT_SSL_VERIFYHOST(3): from libcurl 7.66.0 on, 1 and 2 are treated the same (Debian 12: 7.88)" },
  { file = "csrc/xfer.c", from = [[KC_SET(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");]], to = [[{}]],
    why = "CURLOPT_FOLLOWLOCATION is 0 on every handle: no redirect is ever followed, so the protocols a "
      .. "redirect may use never apply (a 3xx comes back as an answer)" },
  { file = "csrc/xfer.c", from = [[return -1;]], to = [[return -2;]], prev = [[if (d == NULL)]],
    why = "buf_append's callers test its result against 0 only: any other value is the same failure" },
  { file = "csrc/xfer.c", from = [[size_t ncap = x->hdrs_cap ? x->hdrs_cap * 2 : 16;]],
    to = [[size_t ncap = x->hdrs_cap ? x->hdrs_cap * 3 : 16;]],
    why = "only how fast the header index grows: the head's bytes are capped before (KC_MAX_HEADER_BYTES), "
      .. "so the count of entries is bounded either way and every entry is kept" },
  { file = "csrc/xfer.c", from = [[if (ncap > limit && limit >= need)]], to = [[if (ncap > limit && limit > need)]],
    why = "only the size of an allocation: with limit == need the buffer is allocated at the doubled size "
      .. "instead of exactly limit; what it holds, and every check against limit, is the same" },
  { file = "csrc/xfer.c", from = [[if (b->cap > KC_BUF_KEEP)]], to = [[if (!(b->cap > KC_BUF_KEEP))]],
    why = "only when a buffer's memory is given back: with the mutant a small buffer is freed and a large one kept "
      .. "(still bounded by max_body or the head's cap); the next transfer starts from len 0 either way" },
  { file = "csrc/xfer.c", from = [[xfer_reset(x);]], to = [[{}]], prev = [[if (err != NULL) {]],
    why = "after a refused header list the partial x->slist is freed by the next request's xfer_reset or by "
      .. "kc_xfer_release instead (no leak under valgrind); the handle's CURLOPT_HTTPHEADER never points at it" },
  { file = "csrc/core.c", from = [[kc_curl_stale_prevhead = v->version_num >= 0x075300 && v->version_num < 0x080100;]], to = [[kc_curl_stale_prevhead = v->version_num > 0x075300 && v->version_num < 0x080100;]],
    why = "the running libcurl is Debian 12's 7.88.1 (0x075801), far from both bounds of the affected range (7.83.0, the headers API, to 8.0.1; curl issue 11101): " .. "moving the lower bound by one version changes nothing here" },
  { file = "csrc/core.c", from = [[kc_curl_stale_prevhead = v->version_num >= 0x075300 && v->version_num < 0x080100;]], to = [[kc_curl_stale_prevhead = v->version_num >= 0x75301 && v->version_num < 0x080100;]],
    why = "the running libcurl is Debian 12's 7.88.1 (0x075801), far from both bounds of the affected range (7.83.0, the headers API, to 8.0.1; curl issue 11101): " .. "moving the lower bound by one version changes nothing here" },
  { file = "csrc/core.c", from = [[kc_curl_stale_prevhead = v->version_num >= 0x075300 && v->version_num < 0x080100;]], to = [[kc_curl_stale_prevhead = v->version_num >= 0x752FF && v->version_num < 0x080100;]],
    why = "the running libcurl is Debian 12's 7.88.1 (0x075801), far from both bounds of the affected range (7.83.0, the headers API, to 8.0.1; curl issue 11101): " .. "moving the lower bound by one version changes nothing here" },
  { file = "csrc/core.c", from = [[kc_curl_stale_prevhead = v->version_num >= 0x075300 && v->version_num < 0x080100;]], to = [[kc_curl_stale_prevhead = v->version_num >= 0x075300 && v->version_num <= 0x080100;]],
    why = "the running libcurl is Debian 12's 7.88.1 (0x075801), far from both bounds of the affected range (7.83.0, the headers API, to 8.0.1; curl issue 11101): " .. "moving the upper bound by one version changes nothing here" },
  { file = "csrc/core.c", from = [[kc_curl_stale_prevhead = v->version_num >= 0x075300 && v->version_num < 0x080100;]], to = [[kc_curl_stale_prevhead = v->version_num >= 0x075300 && v->version_num < 0x80101;]],
    why = "the running libcurl is Debian 12's 7.88.1 (0x075801), far from both bounds of the affected range (7.83.0, the headers API, to 8.0.1; curl issue 11101): " .. "moving the upper bound by one version changes nothing here" },
  { file = "csrc/core.c", from = [[kc_curl_stale_prevhead = v->version_num >= 0x075300 && v->version_num < 0x080100;]], to = [[kc_curl_stale_prevhead = v->version_num >= 0x075300 && v->version_num < 0x800FF;]],
    why = "the running libcurl is Debian 12's 7.88.1 (0x075801), far from both bounds of the affected range (7.83.0, the headers API, to 8.0.1; curl issue 11101): " .. "moving the upper bound by one version changes nothing here" },
  { file = "csrc/core.c", from = [[kc_curl_stale_prevhead = v->version_num >= 0x075300 && v->version_num < 0x080100;]], to = [[kc_curl_stale_prevhead = v->version_num >= 0x075300 || v->version_num < 0x080100;]],
    why = "the running libcurl is Debian 12's 7.88.1 (0x075801), far from both bounds of the affected range (7.83.0, the headers API, to 8.0.1; curl issue 11101): " .. "both comparisons hold here, so either joins them to true" },
  { file = "csrc/core.c", from = [[int kc_curl_stale_prevhead = 0;]], to = [[int kc_curl_stale_prevhead = 1;]],
    why = "kc_global_init sets it before the first handle is made (kc_xfer_open and core.multi call it first); "
      .. "nothing reads it before" },
  { file = "lua/konnect/redact.lua", from = [[if type(secret) == "string" and #secret >= 4 then]],
    to = [[if type(secret) == "string" or #secret >= 4 then]],
    why = "a client's secrets table holds strings only (konnect.pats builds it from the token and the proxy's "
      .. "credentials): the mutant adds a string under 4 bytes to the needle set, which only makes find_any say "
      .. "maybe; may_hold then skips that secret, as mask_one does" },
  { file = "lua/konnect/redact.lua", from = [[mask_in_place(v, secrets, depth + 1)]],
    to = [[mask_in_place(v, secrets, depth + 0)]],
    why = "the depth check of mask_in_place never fires on what json.decode made (its nesting is bounded by "
      .. "codec.decode_max_depth(JSON_MAX_DEPTH = 64), under REDACT_MAX_DEPTH + 1): counting the depth or not, "
      .. "every string is visited" },
  { file = "lua/konnect/redact.lua", from = [[fragments_cache[secret] = f]], to = [[]],
    why = "the fragments cache only saves work: without the store b64_fragments computes the same fragments "
      .. "each time" },
  { file = "csrc/xfer.c", from = [[return;]], to = [[{}]], prev = [[x->cl_bad = 1;]],
    why = "check_content_length: once cl_bad is set the block is refused whatever follows; going on only "
      .. "records more of the value (cl_first, which nothing reads once cl_bad is set) up to the value's end" },
  { file = "csrc/xfer.c", from = [[x->url_len = x->url_cap = 0;]], to = [[x->url_len = x->url_cap = 1;]],
    why = "kc_xfer_release also sets url to NULL: the next request's URL (never empty) is longer than a cap of "
      .. "1, so it is allocated, and a NULL url never equals the next one (url_len is not compared alone)" },
  { file = "csrc/xfer.c", from = [[if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {]],
    to = [[if (len > 5 && memcmp(p, "HTTP/", 5) == 0) {]],
    why = "libcurl refuses a header line without a colon itself (\"Header without colon\", before the header "
      .. "callback; spec/hostile's cl_conflict_then_status_line), so a line starting HTTP/ reaches on_header only "
      .. "as a block's status line, which libcurl has parsed as one: never the 5 bytes HTTP/ alone" },
  { file = "csrc/xfer.c", from = [[x->easy = NULL;]], to = [[{}]], prev = [[curl_easy_cleanup(x->easy);]],
    why = "kc_xfer_release's callers never read x->easy again: conn_close sets closed first (every later call "
      .. "is refused), the fork path calls kc_xfer_open next (which sets it), and a multi frees the struct" },
  { file = "csrc/xfer.c", from = [[(void)curl_share_setopt(x->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);]],
    to = [[{}]], why = "only a cache: without it each duplicated handle resolves the host again (loopback here)" },
  { file = "csrc/xfer.c", from = [[(void)curl_share_setopt(x->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);]],
    to = [[{}]], why = "only a cache: without it a new TLS connection of a duplicated handle makes a full handshake "
      .. "instead of resuming a session; what is verified, and the answer, are the same" },
  { file = "csrc/xfer.c", from = [[while (vlen > 0 && is_blank(v[vlen - 1]))]],
    to = [[while (vlen > 1 && is_blank(v[vlen - 1]))]],
    why = "the loop before it has taken the leading blanks: with vlen >= 1, v[0] is not blank, so the trailing "
      .. "trim stops at 1 either way" },
  { file = "csrc/xfer.c", from = [[memcmp(a, x->hdr.data + x->cl_first, x->cl_first_len) != 0) {]],
    to = [[memcmp(x->hdr.data + x->cl_first, a, x->cl_first_len) != 0) {]],
    why = "memcmp's result is only compared with 0, which does not depend on the order of its arguments" },
  { file = "csrc/xfer.c", from = [[has_ct = 1;]], to = [[has_ct = 0;]],
    why = "with the caller's Content-Type in the list, the extra \"Content-Type:\" entry only removes libcurl's "
      .. "own header, which the caller's already replaces (libcurl finds the first entry of a name: "
      .. "CURLOPT_HTTPHEADER(3)); the request sent is the same" },
  { file = "csrc/xfer.c", from = [[x->cl_bad = 0;]], to = [[x->cl_bad = 1;]], prev = [[x->has_te = 0;]],
    before = { [[x->has_te = 0;]], [[x->status = 0;]], [[x->head_done = 0;]] },
    why = "xfer_reset's value is never read: every header block starts with its status line, which sets cl_bad "
      .. "to 0 again before any Content-Length, and the check at the blank line follows a status line" },
  { file = "csrc/xfer.c", from = [[if (x->nhdrs == 0)]], to = [[if (0)]],
    why = "libcurl 7.83 and later refuse a folded line with no header before it in their headers store, before "
      .. "the header callback (curl PR 8939; here: a network error), so on_header never sees one with nhdrs 0" },
  -- (helper B)
  { file = "lua/konnect/transport/cosocket.lua",
    from = [[elseif not find(herr, "mismatch", 1, true) and (find(herr, "^%d+: ") or find(herr, "certificate", 1, true)) then]],
    to = [[elseif not find(herr, "mismatch", 0, true) and (find(herr, "^%d+: ") or find(herr, "certificate", 1, true)) then]],
    why = FIND0_B },
  { file = "lua/konnect/transport/cosocket.lua",
    from = [[elseif not find(herr, "mismatch", 1, true) and (find(herr, "^%d+: ") or find(herr, "certificate", 1, true)) then]],
    to = [[elseif not find(herr, "mismatch", 1, true) and (find(herr, "^%d+: ") or find(herr, "certificate", 0, true)) then]],
    why = FIND0_B },
  { file = "lua/konnect/transport/cosocket.lua",
    from = [[if is_ip(host) and (find(herr, "mismatch", 1, true) or find(herr, "verification failed", 1, true)) then]],
    to = [[if is_ip(host) and (find(herr, "mismatch", 0, true) or find(herr, "verification failed", 1, true)) then]],
    why = FIND0_B },
  { file = "lua/konnect/transport/cosocket.lua",
    from = [[if is_ip(host) and (find(herr, "mismatch", 1, true) or find(herr, "verification failed", 1, true)) then]],
    to = [[if is_ip(host) and (find(herr, "mismatch", 1, true) or find(herr, "verification failed", 0, true)) then]],
    why = FIND0_B },
  { file = "lua/konnect/transport/http1.lua",
    from = [[local hash = find(target, "#", 1, true)]],
    to = [[local hash = find(target, "#", 0, true)]],
    why = FIND0_B },
  { file = "lua/konnect/transport/http1.lua",
    from = [[if find(authority, "@", 1, true) then return nil, "user info in URLs is not supported" end]],
    to = [[if find(authority, "@", 0, true) then return nil, "user info in URLs is not supported" end]],
    why = FIND0_B },
  { file = "lua/konnect/transport/http1.lua",
    from = [[if find(c, "close", 1, true) then return true end]],
    to = [[if find(c, "close", 0, true) then return true end]],
    why = FIND0_B },
  { file = "lua/konnect/transport/http1.lua",
    from = [[local _, e = find(buf, "\n\r\n", 1, true)]],
    to = [[local _, e = find(buf, "\n\r\n", 0, true)]],
    why = FIND0_B },
  { file = "lua/konnect/transport/http1.lua",
    from = [[local _, e2 = find(buf, "\n\n", 1, true)]],
    to = [[local _, e2 = find(buf, "\n\n", 0, true)]],
    why = FIND0_B },
  { file = "lua/konnect/transport/http1.lua",
    from = [[return minor == 0 and not find(c, "keep-alive", 1, true)]],
    to = [[return minor == 0 and not find(c, "keep-alive", 0, true)]],
    why = FIND0_B },
  { file = "lua/konnect/transport/init.lua",
    from = [[if why:find("module 'konnect.core' not found", 1, true) then]],
    to = [[if why:find("module 'konnect.core' not found", 0, true) then]],
    why = FIND0_B },
  { file = "lua/konnect/transport/http1.lua", from = [[if e2 and (not e or e2 < e) then return e2 end]],
    to = [[if e2 and (not e or e2 <= e) then return e2 end]],
    why = "e ends a \"\\n\\r\\n\" and e2 a \"\\n\\n\": equal ends would need the byte before it to be both \"\\r\" "
      .. "and \"\\n\", so e2 == e never happens" },
  { file = "lua/konnect/transport/init.lua",
    from = [[return nil, errors.invalid_argument("cannot use the request headers: " .. tostring(err))]], to = [[]],
    why = "unreachable: every header in a set passed konnect.limits at pats.new (header_name/header_value/"
      .. "request_header, token: no white space or control character, at most TOKEN_MAX 4096 bytes; user_agent), "
      .. "the same rules http1.build_block and the C core's check_header_line apply, so header_lines only fails on "
      .. "out of memory in curl_slist_append; were it to fail, each call would still be refused with "
      .. "invalid_argument before any I/O (curl.lua lines_of, http1.request_head)" },
  { file = "lua/konnect/transport/curl.lua", from = [[for i = 1, #reqs do out[i] = setup_error(err, kind) end]],
    to = [[for i = 0, #reqs do out[i] = setup_error(err, kind) end]],
    why = "an extra out[0] beside out[1..n]: #out and every index the one caller reads (konnect.batch: results[k] "
      .. "for k = 1 .. #reqs) are the same" },
  { file = "lua/konnect/transport/curl.lua", from = [[for i = 1, #items do]], to = [[for i = 0, #items do]],
    why = "i = 0: failed is a table only with a refused item, failed[0] is nil, so it adds run[#run + 1] = items[0] "
      .. "(nil: no slot) and map[#run] = 0 for the index no loop reads (k runs 1 .. #run): the same runs and results" },
  { file = "lua/konnect/transport/curl.lua", from = [[return true]], to = [[]],
    prev = [[if self.multi then self.multi:close(); self.multi = false end]],
    why = "transport:close()'s value: the transport contract (HACKING.md) gives :close() none, and its one caller, "
      .. "konnect.transport.close, ignores it (client:close returns that function's own true)" },
  { file = "lua/konnect/transport/init.lua",
    from = [[if not ok then return bad_answer("raised: " .. (tostring(res):match("^[^\n]*") or "?")) end]],
    to = [[if not ok then return bad_answer("raised: " .. (tostring(res):match("[^\n]*") or "?")) end]],
    why = "[^\n]* matches (possibly empty) at position 1 of any string, so the unanchored match always returns "
      .. "the same first line as the anchored one" },
  { file = "lua/konnect/transport/init.lua",
    from = [[return bad_answer("failed: " .. (tostring(terr):match("^[^\n]*") or "?"))]],
    to = [[return bad_answer("failed: " .. (tostring(terr):match("[^\n]*") or "?"))]],
    why = "[^\n]* matches (possibly empty) at position 1 of any string: the same first line, anchored or not" },
  { file = "lua/konnect/transport/init.lua", from = [[if why:find("module 'konnect.core' not found", 1, true) then]],
    to = [[if why:find("module 'konnect.core' not found", 2, true) then]],
    why = "why is the error of require \"konnect.transport.curl\", raised by the require of konnect.core inside "
      .. "curl.lua's main chunk, so it begins with curl.lua's position (\"…/curl.lua:N: module 'konnect.core' not "
      .. "found: …\"): the phrase never starts at byte 1" },
  -- (helper C)
  { file = "lua/konnect/validate.lua", from = [[if find(authority, "@", 1, true) then]],
    to = [[if find(authority, "@", 0, true) then]],
    why = "string.find's init 0 means 1 on every Lua we run: 5.1's str_find_aux clamps posrelat(0) - 1 = -1 to 0, "
      .. "5.3/5.4's posrelat/posrelatI turn 0 into 1 (lstrlib.c): the search starts at the first byte either way" },
  { file = "lua/konnect/validate.lua", from = [[local uuid_seen, uuid_seen_n = {}, 0]],
    to = [[local uuid_seen, uuid_seen_n = {}, 1]],
    why = "uuid_seen is a cache of UUIDs that passed the pattern (a string that passed always passes again): "
      .. "starting the count at 1 only empties it one entry sooner; every answer is the same (performance only)" },
  { file = "lua/konnect/pats.lua", from = [[local tail = token:match("^[ks]pat_(.+)$")]],
    to = [[local tail = token:match("^[ks]pat_(.+)")]],
    why = "(.+) is greedy and . matches every byte (newlines too): the capture always runs to the end of the "
      .. "string, so the $ anchor never changes a match" },
  { file = "lua/konnect/pats.lua", from = [[if not want:find(type(v), 1, true) then]],
    to = [[if not want:find(type(v), 0, true) then]],
    why = "string.find's init 0 means 1 on every Lua we run (5.1's str_find_aux clamps it to the start, "
      .. "5.3/5.4's posrelat/posrelatI turn 0 into 1): the same search" },
  { file = "lua/konnect/retry.lua", from = [[if cap > policy.max then cap = policy.max end]],
    to = [[if cap >= policy.max then cap = policy.max end]],
    why = "when cap == policy.max the assignment stores the value cap already has" },
  { file = "lua/konnect/limits.lua", from = [[return nil, "invalid host name " .. format("%q", h:sub(1, 80))]],
    to = [[return nil, "invalid host name " .. format("%q", h:sub(0, 80))]],
    why = "string.sub's start 0 is clamped to 1 on every Lua we run (5.1's str_sub: if (start < 1) start = 1; "
      .. "5.3/5.4's posrelatI turns 0 into 1): the same substring" },
  { file = "lua/konnect/limits.lua", from = [[return false]], to = [[]],
    before = { [[end]], [[if (c < 32 and c ~= 9) or c == 127 then return true end]] },
    why = "has_ctl then answers nil instead of false for a clean string; every caller (limits.header_value, "
      .. "limits.path, limits.proxy, validate.sa_name) only tests its truth, and nil and false are both false" },
  { file = "lua/konnect/limits.lua", from = [[local bare = host:match("^%[(.*)%]$") or host]],
    to = [[local bare = host:match("^%[(.*)]$") or host]],
    why = "outside a set a ] is an ordinary character in a Lua pattern (Lua manual, 6.4.1): %] and ] match "
      .. "the same byte" },
  { file = "lua/konnect/limits.lua", from = [[local bare = host:match("^%[(.*)%]$") or host]],
    to = [[local bare = host:match("^%[(.*)%]") or host]],
    why = "no_proxy's only caller is proxy_from_env, whose host is server.host from validate.server_url, "
      .. "i.e. limits.host's answer: a host starting with [ matched ^%[[%x:.]+%]$, so it ends with its ]; "
      .. "the greedy (.*) then reaches the last ] either way" },
  -- (helper A)
  { file = "csrc/response.c", from = [[code = code || rc == CURLE_TOO_LARGE;]], to = [[{}]],
    why = "inside #if LIBCURL_VERSION_NUM >= 0x080600: not compiled with libcurl before 8.6 (Debian 12 has 7.88)" },
  { file = "csrc/response.c", from = [[code = code || rc == CURLE_TOO_LARGE;]], to = [[code = code && rc == CURLE_TOO_LARGE;]],
    why = "inside #if LIBCURL_VERSION_NUM >= 0x080600: not compiled with libcurl before 8.6 (Debian 12 has 7.88)" },
  { file = "csrc/response.c", from = [[code = code || rc == CURLE_TOO_LARGE;]], to = [[code = code || rc != CURLE_TOO_LARGE;]],
    why = "inside #if LIBCURL_VERSION_NUM >= 0x080600: not compiled with libcurl before 8.6 (Debian 12 has 7.88)" },
  { file = "csrc/response.c", from = [[if (x->framing != NULL)]], to = [[if (0)]], prev = [[return KC_SYSTEM;]],
    why = "x->framing is set only (a) in the header callback, which then returns 0, so libcurl ends the transfer "
      .. "with CURLE_WRITE_ERROR (CURLOPT_HEADERFUNCTION(3)), or (b) in kc_push_outcome with rc == CURLE_OK; "
      .. "neither code is CURLE_UNSUPPORTED_PROTOCOL nor in kc_errmap, so the lines below give KC_NETWORK too" },
  { file = "csrc/multi.c", from = [[x->attached = 0;]], to = [[{}]], before = { [[curl_multi_remove_handle(m->multi, x->easy);]],
               [[if (ours && x->attached && m->multi != NULL && x->easy != NULL)]] },
    why = "in multi_release: a dead store; every pooled x is then passed to kc_xfer_release (which sets "
      .. "attached = 0 itself) and freed; nothing reads the field in between (curl_multi_cleanup does not see x)" },
  { file = "csrc/multi.c", from = [[return -1;]], to = [[return -2;]], prev = [[if (x == NULL)]],
    why = "multi_grow's only caller tests `!= 0`: any non-zero failure value is the same" },
  { file = "csrc/multi.c", from = [[curl_multi_setopt(m->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)conc);]], to = [[{}]],
    why = "the loop starts an item only while inflight < conc, so at most conc transfers are ever added and each "
      .. "uses at most one connection; CURLMOPT_MAX_TOTAL_CONNECTIONS(3) only queues transfers once the limit is "
      .. "reached, which cannot happen; the cache of idle connections is capped by CURLMOPT_MAXCONNECTS" },
  { file = "csrc/core.c", from = [[if (kc_curl_ready)]], to = [[if (0)]],
    why = "performance only: a second curl_global_init call does nothing but increase libcurl's init counter "
      .. "(D. Stenberg, curl-library 2015-11/0052; lib/easy.c keeps `initialized` as a counter) and returns "
      .. "CURLE_OK; no curl_global_cleanup is ever called, so the counter's value is never seen" },
  { file = "csrc/conn.c", from = [[kc_xfer_finish(&c->x);]], to = [[{}]], prev = [[ok = kc_push_outcome(L, &c->x, rc);]],
    why = "memory only: kc_xfer_finish resets the transfer state and frees the request's header list and any "
      .. "body buffer over KC_BUF_KEEP now; without it kc_xfer_prepare's xfer_reset does the same before the next "
      .. "transfer (and kc_xfer_release at close); the response was already copied into Lua by kc_push_outcome, "
      .. "nothing reads c->x in between, and a changed header list is always set again (prebuilt == NULL or "
      .. "hdrs != cur_hdrs)" },
  { file = "csrc/fs.c",
    from = [[fd = openat(sf->dirfd, sf->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);]],
    to = [[fd = openat(sf->dirfd, sf->tmp, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);]],
    why = "O_EXCL only matters when the temporary name already exists: a collision of KC_SF_RANDOM random "
      .. "characters, which no test (or attacker) can cause (as the entries for `fd < 0 && errno != EEXIST`)" },
  { file = "csrc/fs.c",
    from = [[fd = openat(sf->dirfd, sf->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);]],
    to = [[fd = openat(sf->dirfd, sf->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);]],
    why = "with O_CREAT|O_EXCL, open(2) fails with EEXIST on any existing name, a symbolic link included "
      .. "(\"symbolic links are not followed\"): O_NOFOLLOW adds nothing; and the name is KC_SF_RANDOM random characters" },
  { file = "csrc/response.c", from = [[kc_push_terr(L, kind, msg, 0, 0, 0);]], to = [[kc_push_terr(L, kind, msg, 0, 1, 0);]],
    why = "the code argument is read only when has_code (the argument before it, 0 here) is true: terr.code is "
      .. "absent either way" },
  { file = "csrc/fs.c",
    from = [[fd = openat(sf->dirfd, sf->base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);]],
    to = [[fd = openat(sf->dirfd, sf->base, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);]],
    why = "open(2): with O_CREAT and O_EXCL a symbolic link at the name counts as existing (\"symbolic links are "
      .. "not followed\"): the call fails with EEXIST with or without O_NOFOLLOW, the same errno and message" },
  { file = "csrc/multi.c", from = [[kc_xfer_finish(x);]], to = [[{}]],
    before = { [[lua_rawseti(L, 4, x->index);]], [[curl_multi_strerror(mc), 0, 0, 1);]] },
    why = "memory only (as conn.c's kc_xfer_finish after a request): the slot is detached and its terr pushed; "
      .. "kc_xfer_prepare's xfer_reset resets the same fields before the slot's next transfer, kc_xfer_release "
      .. "at close, and nothing reads them in between" },
  { file = "csrc/multi.c", from = [[curl_multi_strerror(mc), 0, 0, 1);]], to = [[curl_multi_strerror(mc), 0, 0, 2);]],
    why = "sent is pushed with lua_pushboolean, which makes any non-zero int true" },
  { file = "csrc/multi.c", from = [[curl_multi_strerror(mc), 0, 0, 1);]], to = [[curl_multi_strerror(mc), 0, 1, 1);]],
    why = "the code argument is read only when has_code (the argument before it, 0 here) is true: terr.code is "
      .. "absent either way" },
  { file = "csrc/fs.c", from = [[fd = -1;]], to = [[fd = -2;]], prev = [[sf->tmp = sf->base + baselen + 1;]],
    why = "fd is only read by the loop's `fd < 0` (true for both) before openat assigns it" },
  { file = "csrc/fs.c", from = [[for (tries = 0; tries < KC_SF_TRIES && fd < 0; tries++) {]],
    to = [[for (tries = 0; tries < KC_SF_TRIES && fd <= 0; tries++) {]],
    why = "the temporary's openat never returns 0: the directory was opened just before in the same call and "
      .. "open(2) hands out the lowest free descriptor, so sf->dirfd holds 0 whenever 0 was free" },
  { file = "csrc/fs.c", from = [[got = 0;]], to = [[{}]], prev = [[return -1;]],
    why = "the /dev/urandom fallback runs only when getrandom failed, and getrandom(2) of at most 256 bytes "
      .. "(KC_SF_RANDOM = 16) never returns fewer bytes than asked: it fails (-1) on its first call, so got is "
      .. "already 0 here" },
  { file = "csrc/fs.c", from = [[sf->committed = 1;]], to = [[sf->committed = 0;]], prev = [[}]],
    why = "every path after it closes sf->dirfd (kc_sf_release: on success and on each failure), and both "
      .. "readers of committed (kc_sf_unlink_created, sf_commit) also stop when dirfd < 0" },
  { file = "csrc/fs.c", from = [[if (w < 0) {]], to = [[if (w <= 0) {]],
    why = "write(2) to a regular file with a count > 0 (the loop runs while off < len) returns -1 or at least 1, "
      .. "never 0" },
  { file = "csrc/conn.c", from = [[{ "proxy",      CURLOPT_PROXY,     0, CURLOPT_PROXY },]],
    to = [[{ "proxy",      CURLOPT_PROXY,     1, CURLOPT_PROXY },]],
    why = "the row's proxy_opt is CURLOPT_PROXY itself: with has_proxy_opt = 1, kc_xfer_open sets CURLOPT_PROXY "
      .. "a second time to the same string, which changes nothing" },
  { file = "csrc/conn.c", from = [[{ "user_agent", CURLOPT_USERAGENT, 0, CURLOPT_USERAGENT },]],
    to = [[{ "user_agent", CURLOPT_USERAGENT, 1, CURLOPT_USERAGENT },]],
    why = "kc_xfer_open's loop skips KC_S_USER_AGENT (it sets CURLOPT_USERAGENT itself), so this row's "
      .. "has_proxy_opt is never read" },
  { file = "csrc/search.c", from = [[if (m < 3)]], to = [[if (0)]],
    why = "performance only: the shift table is then also filled for a needle of 1 or 2 bytes, which needle_in "
      .. "never reads (memchr / memmem answer those)" },
  { file = "csrc/search.c", from = [[if (m > n)]], to = [[if (0)]],
    why = "a fast path: with m > n, memchr of n bytes (m == 1, n == 0) and memmem with a shorter haystack "
      .. "(m == 2) find nothing, and for m >= 3 the loop starts at pos = m - 1 >= n and returns 0" },
  { file = "csrc/search.c", from = [[if (s != 0) {]], to = [[if (0) {]],
    why = "performance only: the Horspool skip is left out, so every window is compared (memcmp) until the "
      .. "budget sends the rest to memmem: the same answer for every haystack" },
  { file = "csrc/search.c", from = [[return 1;]], to = [[return 2;]],
    prev = [[if (needle_in(nd, (const unsigned char *)s, n))]],
    why = "find_any's result is only pushed with lua_pushboolean, which makes any non-zero int true" },
  { file = "csrc/core.c", from = [[static volatile unsigned kc_fork_gen = 0;]], to = [[static volatile unsigned kc_fork_gen = 1;]],
    why = "the generation's value is never shown: objects only compare it for equality with kc_generation(), "
      .. "and the atfork handler changes it at each fork whatever it starts from" },
  { file = "csrc/core.c", from = [[lua_pushfstring(L, "libcurl/%s", vi && vi->version ? vi->version : "unknown");]],
    to = [[lua_pushfstring(L, "libcurl/%s", vi || vi->version ? vi->version : "unknown");]],
    why = "curl_version_info(3) returns a pointer to libcurl's static struct (never NULL), so both conditions "
      .. "are true and vi->version is printed" },
  { file = "csrc/core.c", from = [[const char *cv = vi && vi->version ? vi->version : "unknown";]],
    to = [[const char *cv = vi || vi->version ? vi->version : "unknown";]],
    why = "curl_version_info(3) returns a pointer to libcurl's static struct (never NULL), so both conditions "
      .. "are true and vi->version is used" },
  { file = "csrc/core.c", from = [[if (n > sizeof ua - sizeof prefix)]], to = [[if (n >= sizeof ua - sizeof prefix)]],
    why = "differs only for a libcurl version string of exactly 74 bytes (sizeof ua - sizeof prefix), where the "
      .. "cap gives the same n; libcurl's is a few bytes (\"7.88.1\")" },
  -- (helper D)
  { file = "lua/konnect/cli/args.lua",
    from = [=[local value = a:match("^%-%-token=(.*)$") or argv[i + 1]]=],
    to = [=[local value = a:match("%-%-token=(.*)$") or argv[i + 1]]=],
    why = "runs only when a:match(\"^%-%-([^=]+)\") == \"token\": a is \"--token\" (no \"=\": neither pattern "
      .. "matches) or starts with \"--token=\", where the unanchored search finds that first occurrence at 1" },
  { file = "lua/konnect/cli/suggest.lua",
    from = [[if i > 1 and j > 1 and ca == b:sub(j - 1, j - 1) and a:sub(i - 1, i - 1) == b:sub(j, j) then]],
    to = [[if i > 1 and j >= 1 and ca == b:sub(j - 1, j - 1) and a:sub(i - 1, i - 1) == b:sub(j, j) then]],
    why = "the one extra case, j = 1, compares ca (a:sub(i, i) with 1 <= i <= #a: one character) with b:sub(0, 0), "
      .. "which is \"\": never equal, so the swap branch is taken exactly as before" },
  { file = "lua/konnect/cli/suggest.lua",
    from = [[if i > 1 and j > 1 and ca == b:sub(j - 1, j - 1) and a:sub(i - 1, i - 1) == b:sub(j, j) then]],
    to = [[if i > 0 and j > 1 and ca == b:sub(j - 1, j - 1) and a:sub(i - 1, i - 1) == b:sub(j, j) then]],
    why = "the one extra case, i = 1, compares a:sub(0, 0), which is \"\", with b:sub(j, j), one character "
      .. "(1 <= j <= #b): never equal, so the swap branch is taken exactly as before" },
  { file = "lua/konnect/cli/suggest.lua", from = [[if la == 0 then return lb end]],
    to = [[if false then return lb end]],
    why = "a fast path: with #a == 0 the loop over i never runs and the function returns prev[lb], "
      .. "set to lb by the first loop: the same answer" },
  { file = "lua/konnect/cli/suggest.lua", from = [[if la == 0 then return lb end]], to = [[if la == 0 then  end]],
    why = "a fast path: with #a == 0 the loop over i never runs and the function returns prev[lb], "
      .. "set to lb by the first loop: the same answer" },
  { file = "lua/konnect/cli/suggest.lua", from = [[if lb == 0 then return la end]],
    to = [[if false then return la end]],
    why = "a fast path: with #b == 0 each row is { [0] = i } (the inner loop never runs), so the function "
      .. "returns prev[0] = #a: the same answer" },
  { file = "lua/konnect/cli/suggest.lua", from = [[if lb == 0 then return la end]], to = [[if lb == 0 then  end]],
    why = "a fast path: with #b == 0 each row is { [0] = i } (the inner loop never runs), so the function "
      .. "returns prev[0] = #a: the same answer" },
  { file = "lua/konnect/cli/audit.lua", from = [[if shown > 0 then st.err("\r", (" "):rep(shown), "\r") end]],
    to = [[if shown > 1 then st.err("\r", (" "):rep(shown), "\r") end]],
    why = "shown is 0 until a progress line is written, then the longest line written, each at least "
      .. "#\"auditing: 0/0 users, about 0s left\" (35) long: never 1" },
  { file = "lua/konnect/cli/commands.lua", from = [[return err]], to = [[]], prev = [[end]],
    why = "quota_hint's last line: its one caller, st.die(st.owner.kind == \"user\" and quota_hint(err) or err), "
      .. "gets err either way (quota_hint changes err's message in place; a nil result falls to \"or err\")" },
  { file = "lua/konnect/cli/commands.lua", from = [[want_object(st, a, "a system account object")]], to = [[]],
    why = "given is no UUID here, so client:find_system_account takes its by-name path (accounts.find), which "
      .. "returns only a listed element whose .name equals given: a table with a string key, from a JSON object, "
      .. "never a list (a[1] ~= nil): the check cannot fail (want_object refuses non-tables and lists only)" },
  { file = "lua/konnect/cli/args.lua",
    from = [[(why:find("such as", 1, true) and "" or "; give an RFC 3339 date-time such as 2030-01-31T00:00:00Z")]],
    to = [[(why:find("such as", 2, true) and "" or "; give an RFC 3339 date-time such as 2030-01-31T00:00:00Z")]],
    why = "why is one of konnect.time.rfc3339's messages; the one holding \"such as\" (\"not an RFC 3339 date-time "
      .. "such as ...\") has it far past position 2, none starts with it: a search from 2 finds what one from 1 does" },
  { file = "lua/konnect/cli/args.lua",
    from = [[(why:find("such as", 1, true) and "" or "; give an RFC 3339 date-time such as 2030-01-31T00:00:00Z")]],
    to = [[(why:find("such as", 0, true) and "" or "; give an RFC 3339 date-time such as 2030-01-31T00:00:00Z")]],
    why = "string.find takes an init below 1 as 1 (Lua 5.1 to 5.4 manuals, string.find; lstrlib.c clamps it)" },
  { file = "lua/konnect/cli/commands.lua", from = [[want_object(st, a, "a system account object")]],
    to = [[want_object(a, st, "a system account object")]],
    why = "the check cannot fail here (see the entry deleting this line); with the arguments swapped it checks st, "
      .. "a table without [1], and passes as well" },
  { file = "lua/konnect/cli/render.lua", from = [[local w = 0]], to = [[local w = 1]],
    prev = [[local function fields(out, list)]],
    why = "fields' w becomes the longest label among the lines printed; every label (token_fields, user_fields) is "
      .. "2 or more characters long, so starting from 1 or 0 gives the same width, and with no line printed "
      .. "w is unused" },
  { file = "lua/konnect/cli/commands.lua", from = [[if type(list) ~= "table" then decode_error(st, what) end]],
    to = [[if false then decode_error(st, what) end]],
    why = "want_tokens' callers pass lists the library built or checked: client:list/list_sa_tokens/list_users "
      .. "data (konnect.pages: a table it fills, or a page whose data the row check took as an array) and "
      .. "client:prune's deleted list (a table lifecycle.prune fills): never a non-table. NOTE (helper D): argued "
      .. "from the code paths, not from a test; a lead may prefer to keep it drawn" },
  { file = "lua/konnect/cli/audit.lua", from = [[for i = 1, #CSV_COLUMNS do row[i] = csv_field(row[i]) end]],
    to = [[for i = 2, #CSV_COLUMNS do row[i] = csv_field(row[i]) end]],
    why = "row[1] is the token's kind, which konnect.audit sets to \"pat\" or \"sat\" only (audit.lua, the job's "
      .. "name == \"list\" and \"pat\" or \"sat\"): csv_field leaves both as they are" },
  { file = "lua/konnect/cli/audit.lua", from = [[if type(o) ~= "table" then return "?" end]],
    to = [[if type(o) ~= "table" then  end]],
    why = "owner_label gets a report token's owner, which konnect.audit always makes a table ({ type = \"user\", ... } "
      .. "or { type = \"system_account\", ... }, the job's owner): the guard never fires" },
  { file = "lua/konnect/cli/suggest.lua", from = [[local d = distance(word, c)]], to = [[local d = distance(c, word)]],
    why = "distance (insertions, deletions, substitutions, adjacent swaps, each costing 1: the optimal string "
      .. "alignment distance) is symmetric: reading a edit script backwards turns b into a at the same cost" },
  { file = "lua/konnect/cli/suggest.lua", from = [[for i = 1, la do]], to = [[for i = 0, la do]],
    why = "the extra row i = 0 compares \"\" (a:sub(0, 0)) with each b character, cost 1, and recomputes "
      .. "prev[j] = min(j + 1, j, j) = j, the row it already holds; rows 1..la and prev2 come out the same" },
  { file = "lua/konnect/cli/suggest.lua",
    from = [[if #word >= 3 and c:sub(1, #word) == word then prefixed, nprefixed = c, nprefixed + 1 end]],
    to = [[if #word >= 3 and c:sub(0, #word) == word then prefixed, nprefixed = c, nprefixed + 1 end]],
    why = "string.sub corrects a start below 1 to 1 (Lua 5.1 to 5.4 manuals, string.sub)" },
  { file = "lua/konnect/cli/args.lua", from = [[word = word:match("^%s*(.-)%s*$"):lower()]],
    to = [[word = word:match("%s*(.-)%s*$"):lower()]],
    why = "string.match tries the start positions in order, and at position 1 this pattern always matches (%s* and "
      .. ".- may take nothing, .- grows to the end): the unanchored search returns the anchored one's capture" },
  { file = "lua/konnect/cli/commands.lua", from = [[if type(list[i]) ~= "table" then decode_error(st, what) end]],
    to = [[if false then decode_error(st, what) end]],
    why = "as for want_tokens' type(list) check: its callers' lists come from the library, whose row check takes "
      .. "only an array of objects as a page's data (a list holding a non-object is kind decode before the CLI "
      .. "sees it; spec/cli_spec.lua's wrong-shape test, '{\"data\":[1,2]}'), or from lifecycle.prune's own list. "
      .. "NOTE (helper D): argued from the code paths, not from a test" },
  { file = "lua/konnect/cli/args.lua", from = [[if not name then return nil, unknown_option(a) end]],
    to = [[if not name then  end]], prev = [[name = short(a)]],
    why = "a short option short() does not know leaves name nil; OPTIONS has no metatable, so OPTIONS[nil] is nil "
      .. "and the chain below (name == \"token\", o and o.value, o and value == nil) falls to its else: "
      .. "return nil, unknown_option(a), the same answer" },
  { file = "lua/konnect/cli/args.lua", from = [[if not name then return nil, unknown_option(a) end]],
    to = [[if false then return nil, unknown_option(a) end]], prev = [[name = short(a)]],
    why = "a short option short() does not know leaves name nil; OPTIONS has no metatable, so OPTIONS[nil] is nil "
      .. "and the chain below (name == \"token\", o and o.value, o and value == nil) falls to its else: "
      .. "return nil, unknown_option(a), the same answer" },
  { file = "csrc/response.c", from = [[if (len[0] > (size_t)(end - p) || len[1] > (size_t)(end - p) - len[0])]],
    to = [[if (0)]],
    why = "raw_head is a userdata with the core's own metatable (kc_to_udata refuses any other value) and only "
      .. "push_head writes it: its lengths always fit its size, so the check against damage never fires" },
  { file = "csrc/response.c", from = [[return 1;]], to = [[return 2;]], prev = [[push_response(L, x);]],
    why = "kc_push_outcome's result is only tested for truth (conn.c: if (ok) return 1; multi.c ignores it)" },
  { file = "csrc/fs.c", from = [[fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);]],
    to = [[fd = open("/dev/urandom", O_CLOEXEC | O_NOFOLLOW);]],
    why = "O_RDONLY is 0 on Linux (asm-generic/fcntl.h): dropping it changes no bit of the flags" },
  { file = "csrc/fs.c", from = [[fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);]],
    to = [[fd = open("/dev/urandom", O_RDONLY | O_NOFOLLOW);]],
    why = "the /dev/urandom fallback runs only when getrandom(2) fails, and it does not here (Linux 3.17+, the syscall is compiled in on Debian 12): " .. "the descriptor that would lack O_CLOEXEC is never opened" },
  { file = "csrc/fs.c", from = [[fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);]],
    to = [[fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);]],
    why = "the /dev/urandom fallback runs only when getrandom(2) fails, and it does not here (Linux 3.17+, the syscall is compiled in on Debian 12): " .. "the open that would follow a link is never made" },
  -- (helper E)
  { file = "lua/konnect/batch.lua",
    from = [[size = gate.remaining > 0 and gate.remaining or 1]],
    to = [[size = gate.remaining > 1 and gate.remaining or 1]],
    why = "they differ only for 0 < remaining <= 1, where the real code's size is remaining and the mutant's 1: "
      .. "the round takes calls while #ready < size, so one call either way (gate.first >= 1 cannot lower it)" },
  { file = "lua/konnect/batch.lua",
    from = [[if at and at > tnow and (not soonest or at < soonest) then soonest = at end]],
    to = [[if at and at >= tnow and (not soonest or at < soonest) then soonest = at end]],
    why = "soonest is read only when the round is empty (#ready == 0); round_size is always >= 1 (>0 for a "
      .. "fractional remaining), so a call with at == tnow (at <= tnow) would have been taken: no empty round "
      .. "has one" },
  { file = "lua/konnect/batch.lua",
    from = [[local tnow = t0 and t0.now() or 0]], to = [[local tnow = t0 and t0.now() or 1]],
    why = "t0 is nil only when transport.select fails; execute then selects again, fails the same way (outside "
      .. "nginx the failure is not remembered but is the same; inside, the phase is the same) and gives every "
      .. "call that error without reading the gate, which this value only feeds" },
  { file = "lua/konnect/batch.lua",
    from = [[if on_done then on_done(i, out[i]) end]], to = [[if false then on_done(i, out[i]) end]],
    before = { [[jobs[i] = false]], [["%s"):format(i, _M.names())) }]] },
    why = "the unknown-operation branch of execute: the only caller passing on_done is the audit's walk "
      .. "(konnect.audit), whose calls always name users_page, system_accounts_page, sa_tokens_page or list; "
      .. "client:batch, which takes a caller's names, passes no on_done" },
  { file = "lua/konnect/http.lua", from = [[if a > 0 then t.sleep(a) end]], to = [[if a >= 0 then t.sleep(a) end]],
    why = "adds only a sleep of 0 s before a retry the policy or the strict gate wants at once: a no-op for "
      .. "the curl transport's sleep (core.sleep: csrc/core.c core_sleep returns at once unless s > 0), a yield to other light threads for the cosocket one (ngx.sleep(0)); "
      .. "nothing else reads the time or the state between" },
  { file = "lua/konnect/http.lua", from = [[if rl.limit then gate.limit = rl.limit end]],
    to = [[if not (rl.limit) then gate.limit = rl.limit end]],
    before = { [[if rl then]], [[local function strict_note(gate, res, rl, now)]] },
    why = "in strict_note: a strict gate's limit is never read (the one reader, konnect.batch run_multi after a "
      .. "hold, sets remaining = nil for a strict gate and limit only for the others; round_size's strict branch "
      .. "reads remaining and probe; the audit reads hold, limited, waited)" },
  { file = "lua/konnect/http.lua", from = [[if rl.limit then gate.limit = rl.limit end]],
    to = [[if false then gate.limit = rl.limit end]],
    before = { [[if rl then]], [[local function strict_note(gate, res, rl, now)]] },
    why = "as the entry above: a store nothing reads for a strict gate" },
  { file = "lua/konnect/ops.lua", from = [[return c.base .. op.p1 .. a1 .. op.p2, nil, nil, a1]], to = [[]],
    why = "a fast path (a cache of checked ids): without it the general path of build runs for the same call "
      .. "(one parameter, seen as a valid UUID, no body, query, options or extra argument) and returns the same "
      .. "url_of(c.base, op, a1) .. , nil, nil, a1; a seen UUID is never \"me\"" },
  { file = "lua/konnect/batch.lua", from = [[return left < size and left or size]],
    to = [[return left <= size and left or size]],
    why = "they differ only when left == size, where both return that same number" },
  { file = "lua/konnect/batch.lua",
    from = [[if gate.first and size > gate.first then size = gate.first end -- nothing heard yet: see _M.run]],
    to = [[if gate.first and size >= gate.first then size = gate.first end -- nothing heard yet: see _M.run]],
    why = "they differ only when size == gate.first, where the mutant assigns size the value it already holds" },
  -- (helper F)
  { file = "lua/konnect/errors.lua", from = [[if #a <= 32 then]], to = [[if #a <= 33 then]], why = GUESS_CAP_F },
  { file = "lua/konnect/errors.lua", from = [[if #a <= 32 then]], to = [[if #a <= 31 then]], why = GUESS_CAP_F },
  { file = "lua/konnect/errors.lua", from = [[if #a <= 32 then]], to = [[if #a < 32 then]], why = GUESS_CAP_F },
  { file = "lua/konnect/validate.lua", from = [[if cp < 32 or cp == 127 or (cp >= 0x80 and cp <= 0x9F) then]],
    to = [[if cp < 32 or cp == 127 or (cp >= 0x7F and cp <= 0x9F) then]],
    why = "the range gains only cp = 0x7F = 127, which `cp == 127` just before already refuses: the same set" },
  { file = "lua/konnect/validate.lua", from = [[_M.uuid_seen = uuid_seen]], to = "", prev = [[uuid_seen, uuid_seen_n = {}, 0]],
    why = "performance only: validate.uuid_seen is konnect.ops's fast path (an id in it skips the pattern); without "
      .. "the update it keeps the first full table (bounded, UUIDS_REMEMBERED entries, every one a valid UUID), so "
      .. "ops still accepts exactly those ids and sends every other one through validate.uuid: the same answers" },
  { file = "lua/konnect/json.lua", from = [[elseif v == floor(v) and v > -2 ^ 53 and v < 2 ^ 53 then]],
    to = [[elseif v == floor(v) and v > -2 ^ 52 and v < 2 ^ 53 then]],
    why = "an integral double of at most 16 digits prints the same under %.17g as under %d (fixed notation, every "
      .. "digit: checked for -2^52-1, -2^52, -2^53+1 on lua5.4), so the band moved to the %.17g branch writes the same text" },
  { file = "lua/konnect/json.lua", from = [[elseif v == floor(v) and v > -2 ^ 53 and v < 2 ^ 53 then]],
    to = [[elseif v == floor(v) and v > -2 ^ 53 and v <= 2 ^ 53 then]],
    why = "2^53 = 9007199254740992 prints as 9007199254740992 under both %d and %.17g (checked on lua5.4)" },
  { file = "csrc/xfer.c", from = [[size_t ncap = x->hdrs_cap ? x->hdrs_cap * 2 : 16;]],
    to = [[size_t ncap = x->hdrs_cap ? x->hdrs_cap * 2 : 17;]],
    why = "only the header index's first size: every entry is kept either way, the head's bytes being capped" },
  { file = "csrc/xfer.c", from = [[x->used = 0;]], to = [[{}]],
    why = "used only decides whether kc_xfer_prepare duplicates the handle first: after kc_xfer_release the "
      .. "struct is freed or reopened (a stale 1 duplicates a fresh handle once more: the same options, an empty "
      .. "headers store), and after a duplicate the same prepare sets it to 1 before it returns" },
  { file = "lua/konnect/json.lua", from = [[elseif v == floor(v) and v > -2 ^ 53 and v < 2 ^ 53 then]],
    to = [[elseif v == floor(v) and v > -1 ^ 53 and v < 2 ^ 53 then]],
    why = "negative integers then go to %.17g, which prints an integral double of at most 16 digits exactly as "
      .. "%d does (the entries above for the other bounds)" },
  { file = "lua/konnect/json.lua",
    from = [[if type(v) == "table" and (tointeger or find(s, "null", 1, true)) and not json_clean(v, NULL) then]],
    to = [[if type(v) == "table" and (tointeger or find(s, "null", 1, true)) and json_clean(v, NULL) then]],
    why = "core.json_clean fails only past KC_CLEAN_MAX_DEPTH (200) or lua_checkstack, and a decoded document is "
      .. "at most JSON_MAX_DEPTH (64) deep: the mutant runs clean_lua over a table json_clean has already "
      .. "cleaned, which changes nothing (performance only)" },
}
