// Package client is the phoenix CLI's client of phoenix-server's REST API
// (/api/v1) and of its event stream (/api/v1/stream).
package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/phoenix-otel/phoenix/internal/buildinfo"
)

// Client calls one phoenix-server.
type Client struct {
	// Base is the server's base URL, e.g. http://127.0.0.1:8080.
	Base  string
	Token string
	HTTP  *http.Client
	// TLS is the client TLS config (CA file), shared with the stream.
	TLS *tls.Config
	// header is sent with every request of this client (WithHeader).
	header http.Header
}

// WithHeader returns a copy of the client that also sends header k: v
// (e.g. an Idempotency-Key for one write).
func (c *Client) WithHeader(k, v string) *Client {
	cp := *c
	cp.header = c.header.Clone()
	if cp.header == nil {
		cp.header = http.Header{}
	}
	cp.header.Set(k, v)
	return &cp
}

// New returns a client for base, with the token and an optional PEM CA file.
func New(base, token, caFile string) (*Client, error) {
	c := &Client{Base: strings.TrimRight(base, "/"), Token: token}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("--ca-file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--ca-file %s: no PEM certificate found in it", caFile)
		}
		c.TLS = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		tr.TLSClientConfig = c.TLS
	}
	// No overall timeout: a command is bounded by its context (Ctrl-C), and
	// a deploy of a large fleet may take a while to answer.
	c.HTTP = &http.Client{Transport: tr}
	return c, nil
}

// APIError is a problem+json answer (RFC 9457), or any non-2xx answer.
type APIError struct {
	Status int    `json:"status"`
	Type   string `json:"type,omitempty"`
	Title  string `json:"title,omitempty"`
	Detail string `json:"detail,omitempty"`
	// Extra holds the problem's extension members (e.g. the parameter, the
	// conflicting deployment, validation problems).
	Extra map[string]json.RawMessage `json:"-"`
	// Method and URL of the request, for messages.
	Method, URL string
}

func (e *APIError) Error() string {
	msg := e.Detail
	if msg == "" {
		msg = e.Title
	}
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	return msg
}

// Problems returns the validation problems of a validation error, if the
// server sent any (extension member "problems").
func (e *APIError) Problems() []Problem {
	raw, ok := e.Extra["problems"]
	if !ok {
		return nil
	}
	var ps []Problem
	if json.Unmarshal(raw, &ps) != nil {
		return nil
	}
	return ps
}

// Problem is one validation problem, at a line and column of a YAML file.
type Problem struct {
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Path    string `json:"path,omitempty"`
	Message string `json:"message"`
}

// ConnError is a failure to reach the server at all.
type ConnError struct {
	Base string
	Err  error
}

func (e *ConnError) Error() string {
	return fmt.Sprintf("cannot reach phoenix-server at %s: %v", e.Base, e.Err)
}

func (e *ConnError) Unwrap() error { return e.Err }

// Do sends a request with an optional JSON body and decodes a JSON answer
// into out (when out is non-nil). Non-2xx answers are *APIError.
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	_, err := c.do(ctx, method, path, query, body, out)
	return err
}

func (c *Client) do(ctx context.Context, method, path string, query url.Values, body, out any) (*http.Response, error) {
	u := c.Base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		switch b := body.(type) {
		case []byte:
			rd = bytes.NewReader(b)
		default:
			buf, err := json.Marshal(body)
			if err != nil {
				return nil, err
			}
			rd = bytes.NewReader(buf)
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		if _, raw := body.([]byte); raw {
			req.Header.Set("Content-Type", "application/yaml")
		} else {
			req.Header.Set("Content-Type", "application/json")
		}
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "application/json, application/problem+json")
	req.Header.Set("User-Agent", "phoenix-cli/"+buildinfo.Version)
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, &ConnError{Base: c.Base, Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return resp, &ConnError{Base: c.Base, Err: fmt.Errorf("reading the answer to %s %s: %w", method, path, err)}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp, decodeProblem(resp, data, method, path)
	}
	if out == nil || len(bytes.TrimSpace(data)) == 0 {
		return resp, nil
	}
	if raw, ok := out.(*[]byte); ok {
		*raw = data
		return resp, nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return resp, fmt.Errorf("%s %s: the server's answer is not the JSON expected: %v", method, path, err)
	}
	return resp, nil
}

func decodeProblem(resp *http.Response, data []byte, method, path string) *APIError {
	e := &APIError{Status: resp.StatusCode, Method: method, URL: path}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if ct == "application/problem+json" || ct == "application/json" {
		var all map[string]json.RawMessage
		if json.Unmarshal(data, &all) == nil {
			_ = json.Unmarshal(data, e)
			e.Status = resp.StatusCode
			for _, k := range []string{"type", "title", "detail", "status", "instance"} {
				delete(all, k)
			}
			e.Extra = all
			return e
		}
	}
	// Not a problem document (a proxy, an old server): keep the first line.
	line, _, _ := strings.Cut(strings.TrimSpace(string(data)), "\n")
	if len(line) > 300 {
		line = line[:300] + "…"
	}
	e.Detail = line
	return e
}

// Get, Post, Put, Delete are shorthands of Do.
func (c *Client) Get(ctx context.Context, path string, query url.Values, out any) error {
	return c.Do(ctx, http.MethodGet, path, query, nil, out)
}

// Post sends body as JSON.
func (c *Client) Post(ctx context.Context, path string, body, out any) error {
	return c.Do(ctx, http.MethodPost, path, nil, body, out)
}

// Put sends body as JSON.
func (c *Client) Put(ctx context.Context, path string, body, out any) error {
	return c.Do(ctx, http.MethodPut, path, nil, body, out)
}

// Delete deletes path.
func (c *Client) Delete(ctx context.Context, path string, out any) error {
	return c.Do(ctx, http.MethodDelete, path, nil, nil, out)
}

// Esc escapes one path segment.
func Esc(s string) string { return url.PathEscape(s) }

// DefaultTimeout bounds one-shot commands that have no --watch.
const DefaultTimeout = 60 * time.Second

// Brief is a one-line form of an error for a table cell.
func Brief(err error) string {
	if api, ok := errors.AsType[*APIError](err); ok {
		return fmt.Sprintf("%d %s", api.Status, api.Error())
	}
	if c, ok := errors.AsType[*ConnError](err); ok {
		return c.Err.Error()
	}
	return err.Error()
}
