package manager

// ArgonRuns is how many password checks m has run, for tests that must
// see a failed sign-in cost the same work whatever its reason.
func ArgonRuns(m *Manager) int64 { return m.argonRuns.Load() }

// KeyReloads is how many times m has read its signing keys from the store
// since New, for tests that must see forged kids cost no more than the
// rate limit allows.
func KeyReloads(m *Manager) int64 { return m.ks.reloads.Load() }

// SignerID is the kid m signs with now.
func SignerID(m *Manager) string { return m.signer().ID }
