-- scripts/mutate_equivalents.lua: mutants of `make mutate` shown to be equivalent (no
-- test can tell them from the real code), never drawn again.  Each entry: the file, the
-- line's text before and after the mutation (leading and trailing white space ignored;
-- never a line number, so an entry survives code moving around it), and why.  An entry
-- whose text no longer occurs simply stops matching: drop it when you see it.
return {
  { file = "lua/konnect/cli.lua",
    from = [[local kind, msg = (line or ""):match("^konnect%-pats: ([%w_]+)[^:]*: (.*)$")]],
    to = [[local kind, msg = (line or ""):match("konnect%-pats: ([%w_]+)[^:]*: (.*)$")]],
    why = "every line report() reads back is one the CLI built, starting with \"konnect-pats: \" (PROG): "
      .. "the first match is at position 1 with or without the anchor" },
  { file = "lua/konnect/transport/http1_read.lua",
    from = [[if e > MAX_HEADER_BYTES then return nil, "too_large", true end]],
    to = [[if false then return nil, "too_large", true end]],
    why = "on this path the head ends inside the first read, which asks for READ_CHUNK (64 KiB) bytes at most: "
      .. "e <= 65536 = MAX_HEADER_BYTES, so the check can never be true (it guards a change of either constant)" },
  { file = "csrc/core.c",
    from = [[curl_multi_setopt(m->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);]],
    to = [[{}]],
    why = "CURLPIPE_MULTIPLEX is libcurl's default since 7.62.0 (CURLMOPT_PIPELINING(3)); Debian 12 has 7.88: "
      .. "the call only matters on an older libcurl" },
  { file = "csrc/core.c", from = [[if (msg->msg != CURLMSG_DONE)]], to = [[if (0)]],
    why = "CURLMSG_DONE is the only message curl_multi_info_read(3) defines: the check never skips one" },
  { file = "csrc/core.c", from = [[*list = ns;]], to = [[{}]], prev = [[goto oom;]],
    why = "after the first append the list is not empty, and curl_slist_append(3) returns the same head for a "
      .. "non-empty list: only the first *list = ns (after the caller's headers, prev differs) changes anything" },
  { file = "csrc/core.c", from = [[if (np == NULL)]], to = [[if (0)]],
    why = "realloc failing: no suite can make the allocator fail (out-of-memory paths are valgrind's and review's)" },
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
    to = [[if false then return nil, "too_large", true end]],
    why = "right after the first read of at most READ_CHUNK (64 KiB) bytes, or after a 1xx head out of one: "
      .. "total <= 65536 = MAX_HEADER_BYTES; the loop below checks every later read" },
  { file = "lua/konnect/meta.lua",
    from = [[if k ~= "headers" and k ~= "request_id" then return nil end]],
    to = [[if k ~= "headers" and k ~= "request_id" then  end]],
    why = "reading any other absent field then builds headers and request_id early and returns m[k], still nil: "
      .. "the same values, only the lazy build is lost" },
  { file = "csrc/core.c", from = [[if (n <= m->npool)]], to = [[if (n < m->npool)]],
    why = "n == npool then reallocs the pool to the size it has and adds no slot: the same pool" },
}
