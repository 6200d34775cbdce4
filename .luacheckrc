std = "max"
max_line_length = 120
codes = true
files["spec/"] = { std = "+busted" }
files["fake_konnect/"] = { globals = { "ngx" } }
files["examples/openresty/"] = { read_globals = { "ngx" } }
files["examples/kong-plugin/"] = { read_globals = { "ngx", "kong" } }
files["lua/konnect/transport/cosocket.lua"] = { read_globals = { "ngx" } }
read_globals = { "ngx" }
files["spec/hostile/"] = { std = "+busted", globals = { "ngx" } }
