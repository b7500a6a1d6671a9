package server

import "sync"

// configInterner keeps one copy of each effective config body, by hash.
// Every host of a deployment version runs the same bytes (one render per
// version), so 10,000 agents reporting it hold one string instead of
// 10,000 copies of about 5 KB.
type configInterner struct {
	mu sync.Mutex
	m  map[string]string
}

// maxInterned bounds the table; past it, it starts over (the strings stay
// alive as long as agents hold them; only sharing for new reports is lost).
const maxInterned = 4096

func (c *configInterner) intern(hash, body string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.m[hash]; ok && len(s) == len(body) {
		return s
	}
	if c.m == nil || len(c.m) >= maxInterned {
		c.m = make(map[string]string)
	}
	c.m[hash] = body
	return body
}
