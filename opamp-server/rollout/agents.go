package rollout

import (
	"context"
	"errors"
	"sync"

	"github.com/phoenix-otel/phoenix/opamp-server/store"
)

// agentCache is the driver's copy of the agent registry while a rollout
// rolls: loaded once, then only the agents the store's change notifications
// name are read again, so an evaluation during a 10,000-agent rollout reads
// the few agents that changed instead of all of them. Effective configs are
// not kept (a status does not need them). It is dropped when nothing rolls.
type agentCache struct {
	mu     sync.Mutex
	loaded bool
	byUID  map[string]store.Agent
	dirty  map[string]bool
}

// changed notes an agent the store announced.
func (c *agentCache) changed(uid string) {
	c.mu.Lock()
	if c.loaded {
		c.dirty[uid] = true
	}
	c.mu.Unlock()
}

// reset drops the copy: the next list reads the whole registry.
func (c *agentCache) reset() {
	c.mu.Lock()
	c.loaded, c.byUID, c.dirty = false, nil, nil
	c.mu.Unlock()
}

func slim(a store.Agent) store.Agent {
	a.EffectiveConfig = ""
	return a
}

// list is the registry as of the changes announced so far.
func (c *agentCache) list(ctx context.Context, st store.Store) ([]store.Agent, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.loaded || len(c.dirty) > len(c.byUID)/4 {
		all, err := st.ListAgentRecords(ctx)
		if err != nil {
			return nil, err
		}
		c.byUID, c.dirty, c.loaded = make(map[string]store.Agent, len(all)), map[string]bool{}, true
		for _, a := range all {
			c.byUID[a.InstanceUID] = slim(a)
		}
	} else {
		for uid := range c.dirty {
			a, err := st.GetAgent(ctx, uid)
			switch {
			case errors.Is(err, store.ErrNotFound):
				delete(c.byUID, uid)
			case err != nil:
				return nil, err
			default:
				c.byUID[uid] = slim(a)
			}
			delete(c.dirty, uid)
		}
	}
	out := make([]store.Agent, 0, len(c.byUID))
	for _, a := range c.byUID {
		out = append(out, a)
	}
	return out, nil
}
