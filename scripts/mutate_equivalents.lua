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
}
