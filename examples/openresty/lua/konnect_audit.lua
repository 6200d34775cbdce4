-- A periodic audit of the caller's Personal Access Tokens: logs every token,
-- and revokes (or rotates) the active ones that expire soon.  Runs in
-- ngx.timer callbacks: init_worker itself cannot use cosockets.
local konnect_client = require "konnect_client"

local ngx = ngx
local log, NOTICE, WARN, ERR = ngx.log, ngx.NOTICE, ngx.WARN, ngx.ERR
local ipairs, tonumber, tostring, format, floor = ipairs, tonumber, tostring, string.format, math.floor

local _M = {}

local function setting(name, default)
  return tonumber(os.getenv(name) or "") or default
end

-- RFC 3339 UTC time -> epoch seconds (nil if unparsable); no local time zone involved
local function epoch(s)
  local y, mo, d, h, mi, sec = tostring(s):match("^(%d+)%-(%d+)%-(%d+)T(%d+):(%d+):(%d+)")
  if not y then return nil end
  y, mo = tonumber(y), tonumber(mo)
  if mo <= 2 then y, mo = y - 1, mo + 12 end -- years start in March
  local days = 365 * y + floor(y / 4) - floor(y / 100) + floor(y / 400)
    + floor((153 * (mo - 3) + 2) / 5) + tonumber(d) - 719469
  return days * 86400 + h * 3600 + mi * 60 + sec
end

--- audit() -> summary table | nil, err
function _M.audit()
  local client, err = konnect_client.get()
  if not client then return nil, err end
  local within = setting("KONNECT_AUDIT_WITHIN", 7 * 86400)
  local action = os.getenv("KONNECT_AUDIT_ACTION") or "revoke"
  local list
  list, err = client:list("me")
  if not list then return nil, err end
  local now = ngx.time()
  local summary = { tokens = #list.data, revoked = 0, rotated = 0, failed = 0 }
  for _, tok in ipairs(list.data) do
    local exp = epoch(tok.expires_at)
    local left = exp and exp - now
    log(NOTICE, format("konnect-audit: token %s %q state=%s expires=%s%s", tok.id, tok.name, tok.state,
      tostring(tok.expires_at), left and format(" (in %.1f days)", left / 86400) or ""))
    if tok.state == "ACTIVE" and left and left < within then
      if action == "revoke" then
        local _, rerr = client:revoke("me", tok.id)
        if rerr then
          summary.failed = summary.failed + 1
          log(ERR, "konnect-audit: revoking ", tok.id, " failed: ", rerr)
        else
          summary.revoked = summary.revoked + 1
          log(WARN, "konnect-audit: revoked ", tok.id, " (", tok.name, "): expires within ", within, " s")
        end
      elseif action == "rotate" then
        local new, rerr = client:rotate("me", tok.id)
        if new then
          -- the new secret goes where its consumer can pick it up, never to the log
          ngx.shared.konnect_secrets:set(tok.name, new.konnect_token)
          summary.rotated = summary.rotated + 1
          log(WARN, "konnect-audit: rotated ", tok.id, " -> ", new.id, " (", tok.name, ")")
        end
        if rerr then
          summary.failed = summary.failed + 1
          log(ERR, "konnect-audit: rotating ", tok.id, ": ", rerr)
        end
      end
    end
  end
  log(NOTICE, format("konnect-audit: done: %d tokens, %d revoked, %d rotated, %d failed",
    summary.tokens, summary.revoked, summary.rotated, summary.failed))
  return summary
end

local function run(premature)
  if premature then return end
  local ok, err = _M.audit()
  if not ok then log(ERR, "konnect-audit: ", err) end
end

--- Start the audit timer in one worker: once now, then every KONNECT_AUDIT_INTERVAL.
function _M.init_worker()
  if ngx.worker.id() ~= 0 then return end
  if not os.getenv("KONNECT_TOKEN") then
    log(ERR, "konnect-audit: KONNECT_TOKEN is not set (and `env KONNECT_TOKEN;` must be in nginx.conf)")
    return
  end
  local ok, err = ngx.timer.at(0, run)
  if ok then ok, err = ngx.timer.every(setting("KONNECT_AUDIT_INTERVAL", 3600), run) end
  if not ok then log(ERR, "konnect-audit: cannot start the timer: ", err) end
end

return _M
