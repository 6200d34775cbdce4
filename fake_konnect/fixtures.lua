-- fake_konnect.fixtures: the seeded ids and credentials, in one place.
-- Read by the fake server (fake_konnect/state.lua), its contract spec
-- (fake_konnect/spec/contract_spec.lua) and the library's specs
-- (spec/support/fake.lua).  Plain data, no dependencies.
return {
  ALICE = "00000000-0000-4000-8000-0000000a11ce",
  BOB = "00000000-0000-4000-8000-000000000b0b",
  ALICE_TOKEN = "kpat_fake_alice_bootstrap",
  BOB_TOKEN = "kpat_fake_bob_bootstrap",
  -- A *service* access token (the contract's serviceAccessToken, a JWT in real
  -- Konnect) acting for alice: list, get and revoke of her PATs only.  Its
  -- spat_ prefix is historical; it is not a system-account token.
  SERVICE_TOKEN = "spat_fake_service_bootstrap",
  MISSING = "00000000-0000-4000-8000-00000000dead", -- a valid UUID that is no user
  UNKNOWN_TOKEN_ID = "00000000-0000-4000-8000-0000000f00f0", -- a valid UUID that is no token
  -- the organisation admin: may read every user's PATs and manage system accounts
  ADMIN = "00000000-0000-4000-8000-00000000ad31",
  ADMIN_TOKEN = "kpat_fake_admin_bootstrap",
  -- two system accounts with a bootstrap system-account access token each:
  -- one with the org-admin role, one with no role
  SYSTEM_ACCOUNT = "00000000-0000-4000-8000-0000000005a1",
  SYSTEM_ACCOUNT_NAME = "fixture-admin-sa",
  SYSTEM_ACCOUNT_TOKEN = "spat_fake_sa_admin_bootstrap",
  PLAIN_SYSTEM_ACCOUNT = "00000000-0000-4000-8000-0000000005a2",
  PLAIN_SYSTEM_ACCOUNT_NAME = "fixture-plain-sa",
  PLAIN_SYSTEM_ACCOUNT_TOKEN = "spat_fake_sa_plain_bootstrap",
  UNKNOWN_ACCOUNT_ID = "00000000-0000-4000-8000-0000000005a0", -- a valid UUID that is no system account
}
