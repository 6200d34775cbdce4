-- fake_konnect.fixtures: the seeded ids and credentials, in one place.
-- Read by the fake server (fake_konnect/state.lua), its contract spec
-- (fake_konnect/spec/contract_spec.lua) and the library's specs
-- (spec/support/fake.lua).  Plain data, no dependencies.
return {
  ALICE = "00000000-0000-4000-8000-0000000a11ce",
  BOB = "00000000-0000-4000-8000-000000000b0b",
  ALICE_TOKEN = "kpat_fake_alice_bootstrap",
  BOB_TOKEN = "kpat_fake_bob_bootstrap",
  SERVICE_TOKEN = "spat_fake_service_bootstrap", -- list, get and revoke only (as alice)
  MISSING = "00000000-0000-4000-8000-00000000dead", -- a valid UUID that is no user
  UNKNOWN_TOKEN_ID = "00000000-0000-4000-8000-0000000f00f0", -- a valid UUID that is no token
}
