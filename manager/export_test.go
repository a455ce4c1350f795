package manager

// ArgonRuns is how many password checks m has run, for tests that must
// see a failed sign-in cost the same work whatever its reason.
func ArgonRuns(m *Manager) int64 { return m.argonRuns.Load() }
