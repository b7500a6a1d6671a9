package client

import (
	"net/http"
	"strings"
	"testing"
)

func TestDecodeProblem(t *testing.T) {
	resp := &http.Response{StatusCode: 422, Header: http.Header{"Content-Type": {"application/problem+json"}}}
	e := decodeProblem(resp, []byte(`{"type":"urn:x","title":"Validation failed","status":422,"detail":"template process-topk-v1: parameter \"k\": must be >= 1","field":"params.k","problems":[{"line":3,"column":5,"message":"m"}]}`), "POST", "/api/v1/deployments")
	if e.Status != 422 || e.Error() != `template process-topk-v1: parameter "k": must be >= 1` || string(e.Extra["field"]) != `"params.k"` {
		t.Fatalf("%+v", e)
	}
	if ps := e.Problems(); len(ps) != 1 || ps[0].Line != 3 || ps[0].Column != 5 {
		t.Fatalf("problems %+v", ps)
	}
	// Not a problem document: the first line of the body.
	resp = &http.Response{StatusCode: 502, Header: http.Header{"Content-Type": {"text/html"}}}
	e = decodeProblem(resp, []byte("<html>Bad gateway</html>\nmore"), "GET", "/api/v1/agents")
	if e.Status != 502 || e.Error() != "<html>Bad gateway</html>" {
		t.Fatalf("%+v", e)
	}
	resp = &http.Response{StatusCode: 404, Header: http.Header{}}
	e = decodeProblem(resp, nil, "GET", "/x")
	if e.Error() != "Not Found" {
		t.Fatalf("empty body: %q", e.Error())
	}
	if !strings.Contains(Brief(e), "404") {
		t.Fatalf("Brief: %q", Brief(e))
	}
}
