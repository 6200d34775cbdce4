-- spec/hostile/cases.lua: THE table of hostile-server cases, run against both
-- transports (curl in busted, cosocket inside nginx).  Plain data, shared by
-- the server (spec/hostile/server.lua picks the misbehaviour by case name from
-- the request path), the runner (spec/hostile/runner.lua) and the specs.
--
-- Each case: name, what the server does (see server.lua), the call made
-- (op, default "list"), client options, and the expected outcome:
--   expect = "value"           the call returns a value
--   expect = "<kind>"          it returns nil, err with err.kind == kind
--   next_call = "<name>"       then the same client lists NEXT_USER and must get back
--                              a token named so (a connection the case spoiled is not reused)
-- Every case is also checked for: nothing raised, the token nowhere (error
-- fields, tostring(err), hook views, log lines, the value), and the call
-- returning within its deadline (timeout + margin).
-- `big = true` marks the cases the RSS figures are taken around.

-- the token every case uses: no fixture shape, so only redaction by value can hide it
local TOKEN = "kpat_fake_hostile_case_token_not_real"

local M = { TOKEN = TOKEN, TIMEOUT = 2, MARGIN = 4,
            USER = "00000000-0000-4000-8000-0000000a11ce",       -- every call's user
            NEXT_USER = "00000000-0000-4000-8000-0000000b0b00" } -- a next_call's user

M.cases = {
  -- slow servers: one absolute deadline per attempt
  { name = "trickle_status", expect = "timeout" },      -- "HTTP/1.1 200 OK" one byte a second
  { name = "trickle_headers", expect = "timeout" },     -- a header line, one byte a second
  { name = "trickle_body", expect = "timeout" },        -- Content-Length 4096, one byte a second
  { name = "trickle_chunks", expect = "timeout" },      -- a one-byte chunk a second, forever
  { name = "silent", expect = "timeout" },              -- accepts, reads, never answers

  -- oversized headers: bounded before they are buffered
  { name = "endless_header_line", expect = "too_large", big = true }, -- "X-Big: aaaa…" never ends
  { name = "header_line_256m", expect = "too_large", big = true },    -- a 256 MiB header line, then CRLF
  { name = "many_headers", expect = "too_large" },                   -- 200,000 short header lines
  { name = "status_line_1m", expect = "too_large" },                 -- a 1 MiB status line
  { name = "head_64k_exactly", expect = "value" },     -- a head of 65536 bytes (the cap) over two reads
  -- the same head in one write, the body after a pause (curl: one header callback per line
  -- still; cosocket: reads of lua_socket_buffer_size, 4 or 8 KiB by default)
  { name = "head_64k_one_write", expect = "value" },
  { name = "head_64k_and_1", expect = "too_large" },   -- one byte more
  -- a head the size of the cap (no blank line yet) in two writes, then close: a dropped
  -- connection, not an oversized head (the cap is not exceeded)
  { name = "head_64k_then_close", expect = "network" },

  -- bodies beyond max_body
  { name = "content_length_2g", expect = "too_large" },   -- Content-Length: 2 GiB, data follows
  { name = "endless_chunked", expect = "too_large", big = true }, -- 64 KiB chunks forever
  { name = "chunk_size_huge", expect = "too_large" },     -- chunk size 7FFFFFFFFFFF

  -- bad chunking
  { name = "chunk_size_not_hex", expect = "network" },    -- "zz\r\n"
  { name = "chunk_missing_crlf", expect = "network" },    -- "5\r\nhelloXX"
  { name = "chunk_line_endless", expect = "network" },    -- "5;" + 1 MiB of extension, never a CRLF
  { name = "chunk_truncated", expect = "network" },       -- a chunk cut short, then close
  { name = "many_trailers", expect = "too_large" },       -- a body, then 2.4 MB of trailer fields (a head's cap)

  -- framing
  { name = "two_content_lengths", expect = "network" },   -- Content-Length: 2 and Content-Length: 40
  { name = "cl_list_repeated", expect = "value" },        -- "Content-Length: 99 ,<TAB>99 ": one value, repeated
  { name = "cl_list_empty_element", expect = "network" }, -- "Content-Length: 99,": an empty element
  { name = "cl_list_differing", expect = "network" },     -- "Content-Length: 99, 199"
  { name = "cl_list_differing_same_length", expect = "network" }, -- "Content-Length: 99, 98"
  { name = "cl_conflict_then_status_line", expect = "network" }, -- the same, then "HTTP/1.1 100 …" inside the head
  { name = "fold_continues_field", expect = "value" },    -- "X-Folded: a", " b", "\tc": one field, "a b c"
  { name = "fold_before_any_field", expect = "network" }, -- a folded line right after the status line
  { name = "chunk_size_leading_zeros", expect = "value" }, -- "000000c5": 8 hex digits, a small size
  { name = "cl_and_chunked", expect = "value" },          -- chunked wins (RFC 9112 6.3)
  { name = "chunked_lf_only", expect = "value" },         -- chunk-size lines ended by a bare LF (RFC 9112 2.2)
  -- the whole list as one 40 KiB chunk: its data spans many reads (cosocket: reads of
  -- lua_socket_buffer_size, 4 or 8 KiB), the first of them together with the head
  { name = "chunk_over_many_reads", expect = "value" },
  -- white space after a chunk size, before its extension or the line's end (RFC 9112 7.1.1
  -- BWS; libcurl skips to the LF): "1a \t;ext=1", "0\t "; the list arrives whole
  { name = "chunk_size_white_space", expect = "value" },
  -- a chunk-size line without a size (" ;ext", after a whole first chunk; a "0" line after it):
  -- bad framing, not the end of the body
  { name = "chunk_size_missing", expect = "network" },
  -- a CR after a chunk's data, then not an LF: bad framing (libcurl: CHUNKE_BAD_CHUNK)
  { name = "chunk_cr_without_lf", expect = "network" },
  -- a body whose last byte comes a moment after the rest (Content-Length; chunked): the
  -- list arrives whole, not one byte short
  { name = "cl_last_byte_late", expect = "value" },
  { name = "chunk_last_byte_late", expect = "value" },
  { name = "early_close_headers", expect = "network" },   -- half a header block, then close
  { name = "early_close_body", expect = "network" },      -- Content-Length 100, 10 bytes, close
  { name = "empty_reply", expect = "network" },           -- close without a byte
  { name = "reset", expect = "network", rst = true },     -- RST instead of an answer (rst_server.lua)
  { name = "bad_status_line", expect = "network" },       -- "HTTP/1.1 abc"
  { name = "http09", expect = "network" },                -- a body without a status line
  -- a status code run into what follows ("200X", "200\tOK"): RFC 9112 4 wants one SP after
  -- the three digits; libcurl's parser reads "%3d" and would take it as a 200
  { name = "status_code_run_on", expect = "network" },

  -- a response with more bytes than its Content-Length ("{}", then a second complete
  -- response): the connection must not be kept (a desync).  `next_call`: the same client
  -- then lists cases.NEXT_USER; the name of the first token it must get back: the real
  -- server's answer, from a new connection (see server.lua)
  { name = "excess_after_body", expect = "decode", next_call = "ok" },

  -- 1xx
  { name = "storm_1xx_then_200", expect = "value" },      -- 2,000 × "100 Continue", then the answer
  { name = "storm_1xx_endless", expect_any = { "timeout", "too_large" } }, -- "100 Continue" forever

  -- the server echoes the request (the Authorization header) back
  { name = "echo_location", expect = "http" },            -- 302 with Location: …?t=<token>
  { name = "echo_request_id", expect = "server" },        -- 500, X-Kong-Request-Id: <token>
  { name = "echo_header", expect = "server" },            -- 503, X-Echo: Bearer <token>
  { name = "echo_html_body", expect = "server" },         -- 502 text/html containing the header
  { name = "echo_problem", expect = "unauthorized" },     -- 401 problem+json: detail, title, instance
  { name = "echo_invalid_parameters", expect = "bad_request" }, -- 400, the token in a reason
  { name = "echo_encoded", expect = "forbidden" },        -- 403: base64, percent and \u-escaped forms
  { name = "echo_base64_header", expect = "server" },     -- 500, X-Auth: base64("Bearer <token>")
  { name = "echo_decode_error", expect = "decode" },      -- 200 text/plain: the header
  { name = "echo_in_value", expect = "value" },           -- 200 list whose token name is the token

  -- wrong shapes and types in JSON
  { name = "list_data_object", expect = "decode" },       -- {"data": {"id": …}}
  { name = "list_data_numbers", expect = "decode" },      -- {"data": [1, 2, 3]}
  { name = "list_not_object", expect = "decode" },        -- [1, 2, 3]
  { name = "find_data_object", op = "find_by_name", expect = "decode" },
  { name = "find_data_strings", op = "find_by_name", expect = "decode" },
  { name = "invalid_parameters_object", expect = "bad_request" },
  { name = "problem_numbers", expect = "bad_request" },   -- title 1, detail {}, instance 42, type true
  { name = "deep_nesting_200", expect = "decode" },       -- 100,000 × "["
  { name = "deep_nesting_500", expect = "server" },
  { name = "json_null_body", expect = "decode" },         -- 200 "null"
  -- 200 with strings that are not UTF-8: the contract says nothing; either is fine, raising is not
  { name = "invalid_utf8", expect_any = { "value", "decode" } },

  -- odd dates (429s, retried once with a short policy)
  { name = "retry_after_1900", expect = "rate_limited" },
  { name = "retry_after_garbage", expect = "rate_limited" },
  { name = "retry_after_huge", expect = "rate_limited" }, -- 99999999999999999999 seconds
  { name = "retry_after_negative", expect = "rate_limited" },
}

-- the client options every case uses (retries: one retry, short, for the 429 cases)
function M.client_options(server_url, extra)
  local o = {
    token = TOKEN, server_url = server_url, timeout = M.TIMEOUT, connect_timeout = M.TIMEOUT,
    max_body = 1024 * 1024,
    retries = { max_attempts = 2, initial = 0.01, max = 0.05, max_elapsed = 1 },
  }
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

M.by_name = {}
for _, c in ipairs(M.cases) do M.by_name[c.name] = c end

return M
