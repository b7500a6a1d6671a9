// Package pipelines is the Phoenix pipeline catalog: the process-metrics
// pipeline templates users deploy and compare, their parameter schema and
// docs, and the renderer that turns a template, its parameters, a destination
// and a host context into a complete, deterministic phoenix-otelcol config.
//
// The server renders every agent's desired config through Render (or
// RenderExperiment, plus WithLoadSim for a load simulation) and identifies it
// by the SHA-256 of the bytes; the CLI uses the same functions for
// `phoenix pipeline show` and ValidateYAML/ValidateWithBinary for
// `phoenix pipeline validate`.
//
// Template metadata (title, docs, parameters with types, defaults and bounds)
// lives in templates/*.yaml, embedded in the binary; the processor chain of
// each template is built in Go (templates.go) so that every value a user
// gives reaches the config only through typed, validated parameters.
package pipelines
