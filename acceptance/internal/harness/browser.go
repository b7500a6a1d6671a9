package harness

// The suite's browser is internal/testutil/browser (shared with the
// console's own browser tests); the server gives it the API token.

// APIToken is the token the server wrote into its data dir.
func (s *Server) APIToken() string { return s.apiToken }
