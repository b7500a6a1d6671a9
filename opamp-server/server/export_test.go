package server

// HoldSessions takes the locks of the sessions whose host matches, as a
// rollout's round (or an agent's message) does while it sends, until
// release is called. Tests use it to prove a round never needs them.
func (s *Server) HoldSessions(match func(host string) bool) (held int, release func()) {
	s.fleet.mu.Lock()
	var list []*session
	for _, sess := range s.fleet.sessions {
		list = append(list, sess)
	}
	s.fleet.mu.Unlock()
	var locked []*session
	for _, sess := range list {
		sess.mu.Lock()
		if match(sess.agent.HostName) {
			locked = append(locked, sess)
			continue
		}
		sess.mu.Unlock()
	}
	return len(locked), func() {
		for _, sess := range locked {
			sess.mu.Unlock()
		}
	}
}
