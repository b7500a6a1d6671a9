package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
)

// The wire types are declared once, in package opamp-server/api; the
// helpers here fetch a document typed (for tables) and raw (for -o json and
// -o yaml, printed whole so no field is lost).

// Raw is a server document kept as it came, for -o json and -o yaml.
type Raw = json.RawMessage

// GetBoth fetches path once and decodes it into typed (for tables) and raw
// (for json/yaml).
func (c *Client) GetBoth(ctx context.Context, path string, q url.Values, typed any) (Raw, error) {
	var raw []byte
	if err := c.Do(ctx, http.MethodGet, path, q, nil, &raw); err != nil {
		return nil, err
	}
	if typed != nil {
		if err := json.Unmarshal(raw, typed); err != nil {
			return nil, err
		}
	}
	return raw, nil
}

// DoBoth is GetBoth for any method and a JSON body.
func (c *Client) DoBoth(ctx context.Context, method, path string, body, typed any) (Raw, error) {
	var raw []byte
	if err := c.Do(ctx, method, path, nil, body, &raw); err != nil {
		return nil, err
	}
	if typed != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, typed); err != nil {
			return nil, err
		}
	}
	return raw, nil
}
